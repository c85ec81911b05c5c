import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, textOf, type StartedServer } from '../support/harness.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';

// The user's config (it may hold HTTP tokens) is hidden from every run, also when it is made after the server
// started: each run hides the config paths that exist when it starts, and a spec kept from before is not reused.
let api: ScriptedApi;
let server: StartedServer;
let xdg: string;

beforeAll(async () => {
  api = await startScriptedApi();
  xdg = mkdtempSync(join(tmpdir(), 'ct-xdg-'));
  server = await startServer(api, { env: { XDG_CONFIG_HOME: xdg } });
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

const call = (tool: string, input: unknown) => `[[tool:${tool}:${JSON.stringify(input)}]]`;

describe("the user's config made after start-up", () => {
  it('is not readable by a quick run (Read tool) of a spec made before it existed', async () => {
    const ask = async (prompt: string) =>
      textOf(await server.client.callTool({ name: 'quick_answer', arguments: { prompt: `${prompt} x` } }));
    const file = join(xdg, 'claude-tiers', 'config.json');
    // A run before the file exists: its spec (shared files, settings) is made and kept.
    expect(await ask(call('Read', { file_path: file }))).not.toMatch(/LATER_TOKEN/);
    const secret = `LATER_TOKEN_${Math.random().toString(36).slice(2)}`;
    mkdirSync(join(xdg, 'claude-tiers'));
    writeFileSync(file, JSON.stringify({ http: { tokens: [secret] } }));
    const read = await ask(call('Read', { file_path: file }));
    expect(read).not.toContain(secret);
    expect(read).toMatch(/denied|not allowed|permission/i);
  }, 120_000);
});
