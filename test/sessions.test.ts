import { describe, expect, it } from 'vitest';
import { textOf } from './support/harness.js';
import { serverPerFile } from './support/per-file.js';
import { viewOf, type TaskView as View } from './support/views.js';

// Issue 12: structured output (checked before claude starts), sessions that continue or fork, on the right model.
const uniq = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const SCHEMA = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };

const file = serverPerFile();

async function finished(r: unknown): Promise<View> {
  let v = viewOf(r);
  while (!v.final)
    v = viewOf(
      await file.server.client.callTool({
        name: 'task_status',
        arguments: { task_id: v.task_id, wait_s: 10, cursor: v.cursor },
      }),
    );
  return v;
}

describe('structured output', () => {
  it('quick_answer returns the object the model produced through StructuredOutput', async () => {
    const r = await file.server.client.callTool({
      name: 'quick_answer',
      arguments: { prompt: `[[tool:StructuredOutput:{"answer":42}]] ${uniq()}`, output_schema: SCHEMA },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect((r.structuredContent as { output: unknown }).output).toEqual({ answer: 42 });
    expect(JSON.parse(textOf(r))).toEqual({ answer: 42 });
  });

  it('a schema that is not valid JSON Schema is refused with the field named, before claude starts', async () => {
    const before = file.api.requests.length;
    const r = await file.server.client.callTool({
      name: 'quick_answer',
      arguments: { prompt: 'hi', output_schema: { type: 'object', properties: { a: { type: 'numberish' } } } },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/output_schema is not a valid JSON Schema/);
    const notObject = await file.server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: 'hi', output_schema: { type: 'string' } },
    });
    expect(textOf(notObject)).toMatch(/output_schema must describe an object/);
    expect(file.api.requests.length).toBe(before);
  });

  it('deep_task carries the object as output; a run without it is an error with the reason', async () => {
    const ok = await finished(
      await file.server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[tool:StructuredOutput:{"answer":7}]] ${uniq()}`, output_schema: SCHEMA, wait_s: 20 },
      }),
    );
    expect(ok.state).toBe('succeeded');
    expect(ok.output).toEqual({ answer: 7 });
    const none = await file.server.client.callTool({
      name: 'quick_answer',
      arguments: { prompt: `[[text:no object here]] ${uniq()}`, output_schema: SCHEMA },
    });
    expect(none.isError).toBe(true);
    expect(textOf(none)).toMatch(/without structured output/);
  });
});

describe('sessions', () => {
  it(
    'a continue runs on the requested model; two forks of one task each see its history and not each ' + 'other',
    async () => {
      const tag = uniq();
      const first = await finished(
        await file.server.client.callTool({
          name: 'deep_task',
          arguments: { prompt: `ORIGIN_${tag} [[text:first]]`, wait_s: 20 },
        }),
      );
      expect(first.state).toBe('succeeded');
      expect(first.session_id).toBeTruthy();
      const cont = await finished(
        await file.server.client.callTool({
          name: 'deep_task',
          arguments: { prompt: `CONTINUE_${tag}`, continue_task_id: first.task_id, model: 'sonnet', wait_s: 20 },
        }),
      );
      expect(cont.state).toBe('succeeded');
      const contReq = file.api.messageRequests((q) => q.lastUserText.includes(`CONTINUE_${tag}`));
      expect(contReq.length).toBeGreaterThan(0);
      expect(contReq.every((q) => /sonnet/.test(q.model ?? ''))).toBe(true);
      expect(JSON.stringify(contReq[0]!.messages)).toContain(`ORIGIN_${tag}`);

      const one = await finished(
        await file.server.client.callTool({
          name: 'deep_task',
          arguments: { prompt: `FORK_ONE_${tag}`, continue_task_id: first.task_id, fork: true, wait_s: 20 },
        }),
      );
      const two = await finished(
        await file.server.client.callTool({
          name: 'deep_task',
          arguments: { prompt: `FORK_TWO_${tag}`, continue_task_id: first.task_id, fork: true, wait_s: 20 },
        }),
      );
      expect([one.state, two.state]).toEqual(['succeeded', 'succeeded']);
      expect(new Set([first.session_id, one.session_id, two.session_id]).size).toBe(3);
      const twoReq = file.api.messageRequests((q) => q.lastUserText.includes(`FORK_TWO_${tag}`));
      expect(twoReq.length).toBeGreaterThan(0);
      const history = JSON.stringify(twoReq[0]!.messages);
      expect(history).toContain(`ORIGIN_${tag}`);
      expect(history).not.toContain(`FORK_ONE_${tag}`);
      expect(twoReq.every((q) => /opus/.test(q.model ?? ''))).toBe(true);
    },
  );

  it('fork without continue_task_id is refused with the field named', async () => {
    const r = await file.server.client.callTool({ name: 'deep_task', arguments: { prompt: 'x', fork: true } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/fork goes with continue_task_id/);
  });
});
