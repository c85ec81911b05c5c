import { AjvJsonSchemaValidator } from '@modelcontextprotocol/client/validators/ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { startServer, textOf, type StartedServer } from '../support/harness.js';
import { viewOf } from '../support/views.js';

// Review finding: the listed output schemas said additionalProperties:false, so a client checking structuredContent
// refused a view with one field more (a server of another version in a cluster, a record another version wrote).
let api: ScriptedApi;
let server: StartedServer;

beforeAll(async () => {
  api = await startScriptedApi();
  server = await startServer(api);
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

// Every object of a JSON value, nested ones included.
function* objects(v: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(v)) for (const x of v) yield* objects(x);
  else if (v && typeof v === 'object') {
    yield v as Record<string, unknown>;
    for (const x of Object.values(v)) yield* objects(x);
  }
}

describe('listed output schemas', () => {
  it('are open to fields they do not name, at every level', async () => {
    const { tools } = await server.client.listTools();
    const withOutput = tools.filter((t) => t.outputSchema);
    expect(withOutput.map((t) => t.name)).toEqual(expect.arrayContaining(['task_status', 'kill_task', 'deep_task']));
    for (const t of withOutput) {
      const closed = [...objects(t.outputSchema)].filter((o) => o.additionalProperties === false);
      expect(closed, t.name).toEqual([]);
    }
  });

  it("a client's check passes a view with fields it does not know, top and nested; viewOf does not", async () => {
    const r = await server.client.callTool({ name: 'deep_task', arguments: { prompt: '[[text:done]]', wait_s: 30 } });
    expect(r.isError, textOf(r)).toBeFalsy();
    const view = viewOf(r);
    expect(view.final).toBe(true);
    const newer = {
      ...view,
      from_a_newer_server: 1,
      tokens: { ...view.tokens, cached: 3 },
      end: { ...view.end!, detail: 'x' },
    };
    const { tools } = await server.client.listTools();
    const validator = new AjvJsonSchemaValidator();
    for (const name of ['task_status', 'kill_task', 'deep_task']) {
      const schema = tools.find((t) => t.name === name)!.outputSchema!;
      const check = validator.getValidator(schema);
      expect(check(view).valid, name).toBe(true);
      const res = check(newer);
      expect(res.valid, `${name}: ${res.errorMessage}`).toBe(true);
      // Still a schema: a view missing a field it names fails.
      const { task_id: _, ...noId } = view;
      expect(check(noId).valid, name).toBe(false);
    }
    expect(() => viewOf({ structuredContent: newer })).toThrow();
  });
});
