import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, ROOT, startServer, textOf, type StartedServer } from '../support/harness.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { finalView, viewOf } from '../support/views.js';

// The server runs its own code (dist/, node_modules/, which it loads chunks and pino from lazily) and claude outside
// any sandbox. A sandboxed task with isolation "none" may write its cwd; when that cwd is a folder holding them (here
// the package root itself, an allowed root), none of them may be written: their contents stay the server's.
let api: ScriptedApi;
let server: StartedServer;
beforeAll(async () => {
  api = await startScriptedApi();
  const config = configFile({ allowedRoots: [ROOT], tiers: { comprehensive: { mcpConfig: null } } });
  server = await startServer(api, { env: { CLAUDE_TIERS_CONFIG: config } });
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

describe("a sandboxed task whose cwd holds the server's code and claude", () => {
  it("cannot open the server's dist/ files or the package's claude for writing; the rest it can", async () => {
    // `: >>` opens for appending and writes nothing: where it succeeds, no content changes. A probe file made in
    // claude's package folder (the running binary itself is busy) goes again at once.
    const probe = `node_modules/@anthropic-ai/claude-code/.ct-probe-${process.pid}`;
    const cmd =
      '(: >> dist/src/index.js) 2>/dev/null; d=$?; (: >> node_modules/pino/package.json) 2>/dev/null; n=$?; ' +
      `(: > ${probe}) 2>/dev/null; c=$?; rm -f ${probe}; (: >> package.json) 2>/dev/null; r=$?; ` +
      'echo "dist=$d pino=$n claude=$c root=$r"';
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:${cmd}]]`, cwd: ROOT, tier: 'sandboxed', isolation: 'none', wait_s: 0 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const v = await finalView(server.client, viewOf(r).task_id);
    expect(v.last_text).toMatch(/root=0/);
    expect(v.last_text).toMatch(/dist=[1-9]/);
    expect(v.last_text).toMatch(/pino=[1-9]/);
    expect(v.last_text).toMatch(/claude=[1-9]/);
  }, 240_000);

  it("cannot make a file in the server's dist/ with the Write tool; one beside it, in its cwd, it can", async () => {
    const denied = join(ROOT, 'dist', `.ct-probe-${process.pid}`);
    const allowed = join(ROOT, `.ct-probe-${process.pid}`);
    const write = (path: string) => `[[tool:Write:${JSON.stringify({ file_path: path, content: 'x' })}]]`;
    try {
      const r = await server.client.callTool({
        name: 'deep_task',
        arguments: {
          prompt: write(denied) + write(allowed),
          cwd: ROOT,
          tier: 'sandboxed',
          isolation: 'none',
          wait_s: 0,
        },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      await finalView(server.client, viewOf(r).task_id);
      expect(existsSync(allowed)).toBe(true);
      expect(existsSync(denied)).toBe(false);
    } finally {
      rmSync(denied, { force: true });
      rmSync(allowed, { force: true });
    }
  }, 240_000);
});
