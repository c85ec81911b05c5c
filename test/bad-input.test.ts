import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { startServer, textOf, type StartedServer } from './support/harness.js';

// One malformed call: the tool, its arguments, and what the error text must say (the field and its fix).
interface Case {
  tool: string;
  args: unknown;
  says: RegExp;
}

let api: ScriptedApi;
let s: StartedServer;
const root = mkdtempSync(join(tmpdir(), 'ct-root-'));
mkdirSync(join(root, 'inside'));
const outside = mkdtempSync(join(tmpdir(), 'ct-outside-'));
symlinkSync(outside, join(root, 'escape'));

const big = (n: number) => 'x'.repeat(n);

// JSON has no NaN or Infinity: a client that sends them puts null on the wire, so null stands for both.
const CASES: Case[] = [
  // quick_answer
  { tool: 'quick_answer', args: {}, says: /prompt is required: pass the task or question as a string/ },
  { tool: 'quick_answer', args: { prompt: '' }, says: /prompt must not be empty/ },
  { tool: 'quick_answer', args: { prompt: ' \n\t ' }, says: /prompt must contain more than white space/ },
  { tool: 'quick_answer', args: { prompt: 42 }, says: /prompt must be a string/ },
  { tool: 'quick_answer', args: { prompt: null }, says: /prompt must be a string/ },
  { tool: 'quick_answer', args: { prompt: ['a', 'b'] }, says: /prompt must be a string/ },
  { tool: 'quick_answer', args: { prompt: big(100_001) }, says: /prompt is too long .*shorten it/ },
  { tool: 'quick_answer', args: { prompt: 'a\u0000b' }, says: /prompt must not contain NUL/ },
  { tool: 'quick_answer', args: { prompt: 'hi', model: '--dangerously-skip-permissions' }, says: /model/ },
  { tool: 'quick_answer', args: { prompt: 'hi', model: '-p' }, says: /model/ },
  { tool: 'quick_answer', args: { prompt: 'hi', model: 'opus --verbose' }, says: /model/ },
  { tool: 'quick_answer', args: { prompt: 'hi', model: 5 }, says: /model must be a string such as "haiku"/ },
  { tool: 'quick_answer', args: { prompt: 'hi', cwd: '' }, says: /cwd must not be empty; omit it/ },
  { tool: 'quick_answer', args: { prompt: 'hi', cwd: 7 }, says: /cwd must be a string path/ },
  { tool: 'quick_answer', args: { prompt: 'hi', cwd: '/etc' }, says: /cwd.*(root|outside)/i },
  { tool: 'quick_answer', args: { prompt: 'hi', cwd: 'inside/../../../../etc' }, says: /cwd.*(root|outside)/i },
  { tool: 'quick_answer', args: { prompt: 'hi', cwd: 'escape' }, says: /cwd.*(root|outside)/i },
  { tool: 'quick_answer', args: { prompt: 'hi', cwd: 'no/such/dir' }, says: /cwd/ },
  { tool: 'quick_answer', args: { prompt: 'hi', cwd: 'in\u0000side' }, says: /cwd must not contain NUL/ },
  { tool: 'quick_answer', args: { prompt: 'hi', tier: 'nope' }, says: /tier.*nope.*(speed|comprehensive)/is },
  {
    tool: 'quick_answer',
    args: { prompt: 'hi', tier: '--model=opus' },
    says: /tier must be a tier name such as "speed"/,
  },
  { tool: 'quick_answer', args: { prompt: 'hi', tier: 3 }, says: /tier must be a string/ },
  { tool: 'quick_answer', args: { prompt: 'hi', cache: 'yes' }, says: /cache must be true or false/ },
  { tool: 'quick_answer', args: { prompt: 'hi', system_prompt: 1 }, says: /system_prompt must be a string/ },
  { tool: 'quick_answer', args: { prompt: 'hi', system_prompt: big(50_001) }, says: /system_prompt is too long/ },
  { tool: 'quick_answer', args: { prompt: 'hi', permission_mode: 'bypassPermissions' }, says: /permission_mode/ },
  // deep_task
  { tool: 'deep_task', args: {}, says: /prompt is required/ },
  { tool: 'deep_task', args: { prompt: 'go', wait_s: -1 }, says: /wait_s must be >= 0/ },
  {
    tool: 'deep_task',
    args: { prompt: 'go', wait_s: 61 },
    says: /wait_s must be at most 60; poll again with task_status/,
  },
  { tool: 'deep_task', args: { prompt: 'go', wait_s: 1e12 }, says: /wait_s must be at most 60/ },
  { tool: 'deep_task', args: { prompt: 'go', wait_s: '5' }, says: /wait_s must be a number of seconds/ },
  { tool: 'deep_task', args: { prompt: 'go', wait_s: null }, says: /wait_s must be a number of seconds/ },
  { tool: 'deep_task', args: { prompt: 'go', timeout_s: 0 }, says: /timeout_s must be > 0/ },
  { tool: 'deep_task', args: { prompt: 'go', timeout_s: -5 }, says: /timeout_s must be > 0/ },
  { tool: 'deep_task', args: { prompt: 'go', timeout_s: 1e12 }, says: /timeout_s must be at most 86400/ },
  { tool: 'deep_task', args: { prompt: 'go', idle_timeout_s: 0 }, says: /idle_timeout_s must be > 0/ },
  { tool: 'deep_task', args: { prompt: 'go', max_turns: 1.5 }, says: /max_turns must be a whole number/ },
  { tool: 'deep_task', args: { prompt: 'go', max_turns: 0 }, says: /max_turns must be >= 1/ },
  { tool: 'deep_task', args: { prompt: 'go', max_turns: '3' }, says: /max_turns must be a whole number/ },
  { tool: 'deep_task', args: { prompt: 'go', max_budget_usd: -1 }, says: /max_budget_usd must be > 0/ },
  {
    tool: 'deep_task',
    args: { prompt: 'go', max_budget_usd: null },
    says: /max_budget_usd must be a number of US dollars/,
  },
  { tool: 'deep_task', args: { prompt: 'go', max_output_tokens: -10 }, says: /max_output_tokens must be > 0/ },
  { tool: 'deep_task', args: { prompt: 'go', model: 'claude; rm -rf /' }, says: /model/ },
  { tool: 'deep_task', args: { prompt: 'go', cwd: '/tmp/../etc' }, says: /cwd.*(root|outside)/i },
  { tool: 'deep_task', args: { prompt: 'go', tier: 'turbo' }, says: /tier.*turbo/s },
  {
    tool: 'deep_task',
    args: { prompt: 'go', continue_task_id: 'abc' },
    says: /task_id must look like "t_[\s\S]*→ at continue_task_id/,
  },
  { tool: 'deep_task', args: { prompt: 'go', continue_task_id: 't_doesnotexist1' }, says: /t_doesnotexist1/ },
  {
    tool: 'deep_task',
    args: { prompt: 'go', dangerously_skip_permissions: true },
    says: /dangerously_skip_permissions/,
  },
  // task_status
  { tool: 'task_status', args: {}, says: /pass exactly one of task_id or task_ids/ },
  {
    tool: 'task_status',
    args: { task_id: 'nope' },
    says: /task_id must look like "t_\.\.\." as returned by deep_task/,
  },
  { tool: 'task_status', args: { task_id: 't_doesnotexist2' }, says: /t_doesnotexist2/ },
  { tool: 'task_status', args: { task_id: 5 }, says: /task_id must be a string/ },
  { tool: 'task_status', args: { task_ids: [] }, says: /task_ids must not be empty/ },
  { tool: 'task_status', args: { task_ids: ['bad id'] }, says: /task_ids/ },
  { tool: 'task_status', args: { task_ids: ['t_aaaa1'], wait_for: 'some' }, says: /wait_for must be "any" or "all"/ },
  { tool: 'task_status', args: { task_id: 't_aaaa1', wait_for: 'any' }, says: /wait_for goes with task_ids/ },
  { tool: 'task_status', args: { task_id: 't_aaaa1', cursor: -1 }, says: /cursor must be >= 0/ },
  { tool: 'task_status', args: { task_id: 't_aaaa1', cursor: 1.5 }, says: /cursor must be a whole number/ },
  { tool: 'task_status', args: { task_id: 't_aaaa1', tail: 500 }, says: /tail must be at most 200/ },
  { tool: 'task_status', args: { task_id: 't_aaaa1', wait_s: 120 }, says: /wait_s must be at most 60/ },
  // kill_task
  { tool: 'kill_task', args: {}, says: /task_id is required: pass an id returned by deep_task/ },
  { tool: 'kill_task', args: { task_id: '../../etc/passwd' }, says: /task_id must look like "t_/ },
  { tool: 'kill_task', args: { task_id: 't_nosuchtask3' }, says: /t_nosuchtask3/ },
  { tool: 'kill_task', args: { task_id: 't_aaaa1', reason: big(501) }, says: /reason must be at most 500 characters/ },
  // list_tasks, server_stats, unknown tools
  { tool: 'list_tasks', args: { state: 'done' }, says: /state/ },
  { tool: 'list_tasks', args: { state: [] }, says: /state must not be an empty list/ },
  { tool: 'list_tasks', args: { limit: 0 }, says: /limit must be >= 1/ },
  { tool: 'list_tasks', args: { limit: 'ten' }, says: /limit must be a number/ },
  { tool: 'server_stats', args: { verbose: true }, says: /verbose/ },
  { tool: 'rm_rf', args: {}, says: /Unknown tool "rm_rf"\. Available tools: .*quick_answer/ },
];

// Each tool's input fields as the server lists them, for the field a case is about.
let schemas: Map<string, { required: string[]; fields: string[] }>;

beforeAll(async () => {
  api = await startScriptedApi();
  s = await startServer(api, { env: { CLAUDE_TIERS_ROOTS: root }, cwd: root });
  const { tools } = await s.client.listTools();
  schemas = new Map(
    tools.map((t) => [
      t.name,
      { required: t.inputSchema.required ?? [], fields: Object.keys(t.inputSchema.properties ?? {}) },
    ]),
  );
});

// The field a malformed call is about: the last argument it passes (each case puts the bad one last), else the first
// required field of the tool (or its first field), else (a tool that does not exist) the tool's name.
function fieldOf(c: Case): string {
  const keys = Object.keys(c.args as object);
  const schema = schemas.get(c.tool);
  return keys.at(-1) ?? schema?.required[0] ?? schema?.fields[0] ?? c.tool;
}
afterAll(async () => {
  await s?.close();
  await api?.close();
});

describe('bad input', () => {
  it.each(CASES.map((c, i) => [i + 1, c.tool, JSON.stringify(c.args).slice(0, 60), c] as const))(
    '#%i %s %s',
    async (_n, _tool, _args, c) => {
      const before = api.messageRequests().length;
      const r = await s.client.callTool({ name: c.tool, arguments: c.args as Record<string, unknown> });
      expect(r.isError).toBe(true);
      const text = textOf(r);
      // The message itself must say it: the Usage line that follows names every field and proves nothing.
      const [message] = text.split('\nUsage: ');
      expect(message).toMatch(c.says);
      // Each refusal names what it is about, whatever the case's own pattern checks.
      expect(message).toContain(fieldOf(c));
      // A schema error also shows how to call the tool.
      if (text.startsWith('Invalid input')) expect(text).toMatch(/\nUsage: /);
      // Nothing reached claude, and the server answers the next call.
      expect(api.messageRequests().length).toBe(before);
      const stats = await s.client.callTool({ name: 'server_stats', arguments: {} });
      expect(stats.isError).toBeFalsy();
    },
  );

  it('arguments that are not an object are refused at the protocol level, naming arguments', async () => {
    // The SDK checks params before any tool code runs: a JSON-RPC invalid-params error, not a tool result.
    await expect(
      s.client.callTool({ name: 'quick_answer', arguments: 'just a string' as unknown as Record<string, unknown> }),
    ).rejects.toThrow(/arguments/);
    const stats = await s.client.callTool({ name: 'server_stats', arguments: {} });
    expect(stats.isError).toBeFalsy();
  });

  it('after all of them a valid call is answered, and odd but valid prompts are passed as data', async () => {
    const odd = '--help -p "$(rm -rf ~)" مرحبا 🙂 \u202Eevil\u202C [[text:ok]]';
    const r = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: odd } });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toBe('ok');
    const last = api.messageRequests().at(-1)!;
    expect(JSON.stringify(last.messages)).toContain(JSON.stringify(odd).slice(1, -1));
  });
});
