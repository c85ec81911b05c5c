import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, startServer, textOf, type StartedServer } from '../support/harness.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { finalView, viewOf } from '../support/views.js';

// The state dir under the allowed roots (the defaults do it when the server starts in $HOME: roots [~], state dir
// ~/.local/state/claude-tiers). A cwd is checked against the roots only, so a caller names the state dir itself as
// the cwd of a sandboxed task (isolation "none"): the sandbox then hides nothing of it ("a task whose own folder is
// the state dir itself") and its one writable folder is the state dir.
let api: ScriptedApi;
let roots: string;
let stateDir: string;
let server: StartedServer;

beforeAll(async () => {
  api = await startScriptedApi();
  roots = mkdtempSync(join(tmpdir(), 'ct-roots-'));
  stateDir = join(roots, '.local', 'state', 'claude-tiers');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const config = configFile({ allowedRoots: [roots], tiers: { comprehensive: { mcpConfig: null } } });
  server = await startServer(api, { cwd: roots, stateDir, env: { CLAUDE_TIERS_CONFIG: config } });
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

describe('the state dir as a cwd', () => {
  it('is refused, or a sandboxed task there still cannot read the audit key nor write the state dir', async () => {
    // A first task makes the audit key (prompts are audited only when asked; the key exists once anything audits).
    const cmd = 'od -An -tx1 audit.key | tr -d " \\n"; echo; echo forged > tasks/forged.txt; echo w=$?';
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:${cmd}]]`, cwd: stateDir, tier: 'sandboxed', isolation: 'none', wait_s: 0 },
    });
    if (r.isError) return void expect(textOf(r)).toMatch(/cwd/);
    const v = await finalView(server.client, viewOf(r).task_id);
    const key = existsSync(join(stateDir, 'audit.key'))
      ? readFileSync(join(stateDir, 'audit.key')).toString('hex')
      : '';
    console.log(v.state, v.last_text, key);
    if (key) expect(v.last_text).not.toContain(key.slice(0, 16));
    expect(existsSync(join(stateDir, 'tasks', 'forged.txt'))).toBe(false);
  }, 240_000);
});
