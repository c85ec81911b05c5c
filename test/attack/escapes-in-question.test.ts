import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, SERVER_ENTRY, serverEnv, startServer, textOf, type StartedServer } from '../support/harness.js';
import { makeTempHome, startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { finalView, viewOf, type TaskView } from '../support/views.js';

// A permission question's reason reaches a person who decides: the elicitation's message (Claude Code prints it on a
// terminal), the tool result's text, the board. claude takes it from a PreToolUse hook that asks: a user's hook that
// quotes the tool's input in its reason hands the task's own text to the question, terminal escapes and all. (claude
// refuses a Bash command with control characters, not a Write's content. It asks only about tools it has: a hostile
// tool name is checked in test/board/render-input-text.test.ts.)
let api: ScriptedApi;
let server: StartedServer;
let home: string;
let work: string;
let config: string;
// C0 and C1 controls, bidi overrides and isolates, zero widths.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const HIDING = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
// ESC and an OSC 52 clipboard write, a right-to-left override, a zero width space.
const ODD = 'x\u001b]52;c;aGk=\u0007\u202egnp\u200b';
const ESCAPED = 'checked: x\\u{1b}]52;c;aGk=\\u{7}\\u{202e}gnp\\u{200b}';
const writing = (name: string) => `[[tool:Write:${JSON.stringify({ file_path: name, content: ODD })}]]`;

beforeAll(async () => {
  api = await startScriptedApi();
  home = await makeTempHome();
  work = mkdtempSync(join(tmpdir(), 'ct-question-'));
  const hook = join(home, 'ask-hook.mjs');
  writeFileSync(
    hook,
    "let s = '';\nprocess.stdin.on('data', (d) => (s += d));\nprocess.stdin.on('end', () => {\n" +
      '  const content = JSON.parse(s).tool_input?.content ?? "";\n' +
      "  const out = { hookEventName: 'PreToolUse', permissionDecision: 'ask', permissionDecisionReason: " +
      '`checked: ${content}` };\n' +
      '  process.stdout.write(JSON.stringify({ hookSpecificOutput: out }));\n});\n',
  );
  mkdirSync(join(home, '.claude'), { recursive: true });
  writeFileSync(
    join(home, '.claude', 'settings.json'),
    JSON.stringify({
      hooks: { PreToolUse: [{ matcher: 'Write', hooks: [{ type: 'command', command: `node ${hook}` }] }] },
    }),
  );
  config = configFile({
    allowedRoots: [work],
    tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read'], permissionTimeoutS: 60 } },
  });
  server = await startServer(api, { home, cwd: work, env: { CLAUDE_TIERS_CONFIG: config } });
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

async function until(id: string, done: (v: TaskView) => boolean): Promise<{ v: TaskView; text: string }> {
  const end = Date.now() + 60_000;
  for (;;) {
    const r = await server.client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 2 } });
    const v = viewOf(r);
    if (done(v) || Date.now() > end) return { v, text: textOf(r) };
  }
}

describe("a permission question's reason with terminal escapes and bidi overrides", () => {
  it("reaches the tool result's text escaped", async () => {
    const r = await server.client.callTool({ name: 'deep_task', arguments: { prompt: writing('a.txt'), wait_s: 0 } });
    const { v, text } = await until(viewOf(r).task_id, (x) => x.state === 'needs_input' || x.final);
    expect(v.state, text).toBe('needs_input');
    // The question holds the hook's reason as claude gave it; the text shows it escaped.
    expect(v.input_request?.reason).toBe(`checked: ${ODD}`);
    console.log(JSON.stringify({ text }));
    expect(text).toContain(`(${ESCAPED}); it will be denied`);
    for (const line of text.split('\n')) expect(line).not.toMatch(HIDING);
    await server.client.callTool({
      name: 'answer_task',
      arguments: { task_id: v.task_id, request_id: v.input_request!.request_id, decision: 'deny' },
    });
    expect((await finalView(server.client, v.task_id)).state).toBe('succeeded');
  }, 180_000);

  it("reaches a client's elicitation escaped", async () => {
    const { env } = await serverEnv(api, { home, env: { CLAUDE_TIERS_CONFIG: config } });
    const transport = new StdioClientTransport({ command: process.execPath, args: [SERVER_ENTRY], env, cwd: work });
    const client = new Client(
      { name: 'eliciting-test', version: '1.0.0' },
      { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(String((request.params as { message?: string }).message));
      return { action: 'accept', content: { decision: 'deny', message: 'not today' } };
    });
    await client.connect(transport);
    try {
      const r = await client.callTool(
        { name: 'deep_task', arguments: { prompt: writing('b.txt'), wait_s: 60 } },
        { timeout: 120_000 },
      );
      expect(viewOf(r).final, textOf(r)).toBe(true);
      console.log(JSON.stringify({ asked }));
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain(`(${ESCAPED}); it will be denied`);
      expect(asked[0]).not.toMatch(HIDING);
      // Denied: nothing was written.
      expect(existsSync(join(work, 'b.txt'))).toBe(false);
    } finally {
      await client.close();
    }
  }, 180_000);
});
