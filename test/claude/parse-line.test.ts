import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EVENT_SCHEMAS, isBlock, isSystem, type ClaudeEvent } from '../../src/claude/events.js';
import { parseEventLine, type ParsedLine } from '../../src/claude/parse-line.js';

// Fixtures are real stdout of claude 2.1.330 (-p --output-format stream-json --verbose) against a throwaway local API.
const FIXTURES = join(import.meta.dirname, 'fixtures');
const lines = (name: string): string[] =>
  readFileSync(join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
const events = (name: string): ClaudeEvent[] =>
  lines(name).map((l) => {
    const p = parseEventLine(l);
    if (p.kind !== 'event') throw new Error(`${name}: ${JSON.stringify(p).slice(0, 300)}`);
    return p.event;
  });
const only = <T extends ClaudeEvent>(list: ClaudeEvent[], pick: (e: ClaudeEvent) => e is T): T => {
  const found = list.filter(pick);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const isResult = (e: ClaudeEvent): e is Extract<ClaudeEvent, { type: 'result' }> => e.type === 'result';
const expectInvalid = (p: ParsedLine): Extract<ParsedLine, { kind: 'invalid' }> => {
  expect(p.kind).toBe('invalid');
  return p as Extract<ParsedLine, { kind: 'invalid' }>;
};

describe('parseEventLine on real claude output', () => {
  it('accepts every line of every fixture as a modelled event', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files)
      for (const l of lines(f)) expect(parseEventLine(l), `${f}: ${l.slice(0, 120)}`).toMatchObject({ kind: 'event' });
  });

  it('reads system/init, assistant text and a success result', () => {
    const list = events('text-success.jsonl');
    expect(list.map((e) => e.type)).toEqual(['system', 'assistant', 'result']);
    const init = list[0]!;
    if (!isSystem(init, 'init')) throw new Error('first event is not system/init');
    expect(init.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(init.claude_code_version).toBe('2.1.330');
    expect(init.permissionMode).toBe('default');
    expect(init.tools).toContain('Bash');
    expect(init.mcp_servers).toEqual([]);
    const assistant = list[1]!;
    if (assistant.type !== 'assistant') throw new Error('not assistant');
    const block = assistant.message.content[0]!;
    expect(isBlock(block, 'text') && block.text).toBe('Hello world! Ünïcödé ✓ 日本語');
    expect(assistant.message.usage?.input_tokens).toBe(12);
    const result = only(list, isResult);
    expect(result).toMatchObject({
      subtype: 'success',
      is_error: false,
      num_turns: 1,
      terminal_reason: 'completed',
      result: 'Hello world! Ünïcödé ✓ 日本語',
      api_error_status: null,
    });
    expect(result.session_id).toBe(init.session_id);
    expect(result.total_cost_usd).toBeGreaterThan(0);
    expect(Object.keys(result.modelUsage ?? {})).toEqual(['claude-opus-5-5']);
  });

  it('reads a Bash tool_use and its tool_result with structured tool_use_result', () => {
    const list = events('bash-tool.jsonl');
    expect(list.map((e) => e.type)).toEqual(['system', 'assistant', 'assistant', 'user', 'assistant', 'result']);
    const toolUse = list
      .flatMap((e) => (e.type === 'assistant' ? e.message.content : []))
      .find((b) => isBlock(b, 'tool_use'));
    if (!toolUse || !isBlock(toolUse, 'tool_use')) throw new Error('no tool_use block');
    expect(toolUse).toMatchObject({ id: 'toolu_01ABC2', name: 'Bash', input: { command: 'echo hi from bash' } });
    const user = list[3]!;
    if (user.type !== 'user' || typeof user.message.content === 'string') throw new Error('no tool_result message');
    const block = user.message.content[0]!;
    if (!isBlock(block, 'tool_result')) throw new Error('not a tool_result block');
    expect(block).toMatchObject({ tool_use_id: 'toolu_01ABC2', is_error: false, content: 'hi from bash' });
    expect(user.tool_use_result).toMatchObject({ stdout: 'hi from bash', interrupted: false });
    expect(only(list, isResult).num_turns).toBe(2);
  });

  it('reads an API error: api_retry, a synthetic assistant message, then is_error with api_error_status', () => {
    const list = events('api-error-529.jsonl');
    const retry = list.find((e) => isSystem(e, 'api_retry'));
    if (!retry || !isSystem(retry, 'api_retry')) throw new Error('no api_retry');
    expect(retry).toMatchObject({ attempt: 1, max_retries: 1, error_status: 529, error: 'overloaded' });
    expect(retry.retry_delay_ms).toBeGreaterThan(0);
    const synthetic = list.find((e) => e.type === 'assistant');
    expect(synthetic).toMatchObject({
      message: { model: '<synthetic>' },
      error: 'server_error',
      api_error_status: 529,
    });
    const result = only(list, isResult);
    expect(result).toMatchObject({
      subtype: 'success',
      is_error: true,
      api_error_status: 529,
      terminal_reason: 'api_error',
    });
    expect(result.result).toMatch(/^API Error: 529/);
  });

  it('reads connection refused as is_error with api_error_status null', () => {
    const result = only(events('connection-refused.jsonl'), isResult);
    expect(result).toMatchObject({ is_error: true, api_error_status: null, api_error: 'connection_failed' });
  });

  it('reads permission denials, max turns, interrupts and error subtypes without a result text', () => {
    const denied = events('permission-denied.jsonl');
    expect(denied.some((e) => e.type === 'system' && e.subtype === 'permission_denied')).toBe(true);
    expect(only(denied, isResult).permission_denials).toEqual([
      {
        tool_name: 'Write',
        tool_use_id: 'toolu_01WR2',
        tool_input: { file_path: '/tmp/sse/should-not-exist.txt', content: 'x' },
      },
    ]);
    const maxTurns = only(events('max-turns.jsonl'), isResult);
    expect(maxTurns).toMatchObject({
      subtype: 'error_max_turns',
      is_error: true,
      terminal_reason: 'max_turns',
      errors: ['Reached maximum number of turns (1)'],
    });
    expect(maxTurns.result).toBeUndefined();
    const interrupted = events('interrupt.jsonl');
    expect(interrupted.find((e) => e.type === 'control_response')).toMatchObject({
      response: { subtype: 'success', request_id: 'r1' },
    });
    expect(only(interrupted, isResult)).toMatchObject({
      subtype: 'error_during_execution',
      terminal_reason: 'aborted_tools',
    });
  });

  it('reads can_use_tool control requests, slow-Bash task events, model fallback, thinking and stream events', () => {
    expect(events('can-use-tool.jsonl').find((e) => e.type === 'control_request')).toMatchObject({
      request: { subtype: 'can_use_tool', tool_name: 'Bash' },
    });
    const slow = events('slow-bash-task.jsonl');
    expect(slow.find((e) => isSystem(e, 'task_started'))).toMatchObject({
      tool_use_id: 'toolu_01ABC2',
      task_type: 'local_bash',
    });
    expect(slow.find((e) => isSystem(e, 'task_notification'))).toMatchObject({ status: 'completed' });
    expect(events('model-fallback.jsonl').find((e) => isSystem(e, 'model_fallback'))).toMatchObject({
      original_model: 'claude-opus-5-5',
      fallback_model: 'claude-sonnet-5-5',
      trigger: 'overloaded',
    });
    const thinking = events('thinking.jsonl').flatMap((e) => (e.type === 'assistant' ? e.message.content : []));
    expect(thinking[0]).toMatchObject({ type: 'thinking', thinking: 'Let me think about it.' });
    const partial = events('partial-messages.jsonl');
    expect(partial.find((e) => isSystem(e, 'status'))).toMatchObject({ status: 'requesting' });
    expect(
      partial.filter((e) => e.type === 'stream_event').map((e) => (e.type === 'stream_event' ? e.event.type : '')),
    ).toContain('message_start');
  });
});

describe('parseEventLine on hand-made lines', () => {
  it('reports garbage and non-objects as invalid, with a 200-char preview', () => {
    expect(expectInvalid(parseEventLine('this is not json')).reason).toBe('not JSON');
    const long = `{${'x'.repeat(1000)}`;
    expect(expectInvalid(parseEventLine(long)).preview).toBe(long.slice(0, 200));
    for (const line of ['42', '"text"', 'null', '[{"type":"result"}]'])
      expect(expectInvalid(parseEventLine(line)).reason).toBe('not a JSON object');
    expect(expectInvalid(parseEventLine('{"subtype":"init"}')).reason).toMatch(/type/);
    expect(expectInvalid(parseEventLine('{"type":7}')).reason).toMatch(/type/);
    expect(expectInvalid(parseEventLine('')).reason).toBe('not JSON');
  });

  it('records valid objects of types we do not model as unknown, with the raw value', () => {
    const raw = { type: 'rate_limit_event', rate_limit_info: { status: 'allowed' } };
    expect(parseEventLine(JSON.stringify(raw))).toEqual({ kind: 'unknown', type: 'rate_limit_event', raw });
    // Names that exist on Object.prototype must not be mistaken for schemas.
    for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(parseEventLine(JSON.stringify({ type }))).toMatchObject({ kind: 'unknown', type });
  });

  it('accepts unmodelled system subtypes, unknown block types and new fields', () => {
    expect(parseEventLine('{"type":"system","subtype":"hook_started","hook_name":"x"}')).toMatchObject({
      kind: 'event',
      event: { subtype: 'hook_started', hook_name: 'x' },
    });
    const line = JSON.stringify({
      type: 'assistant',
      message: {
        content: [
          { type: 'server_tool_use', id: 'x' },
          { type: 'text', text: 'hi', citations: null },
        ],
      },
      brand_new: 1,
    });
    expect(parseEventLine(line)).toMatchObject({
      kind: 'event',
      event: { brand_new: 1, message: { content: [{ type: 'server_tool_use' }, { citations: null }] } },
    });
    const result = { type: 'result', subtype: 'error_max_budget_usd', is_error: true, future_field: { a: 1 } };
    expect(parseEventLine(JSON.stringify(result))).toEqual({ kind: 'event', event: result });
  });

  it('reports a known type that fails its schema as invalid, naming the field', () => {
    const badToolUse = expectInvalid(
      parseEventLine('{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash","input":{}}]}}'),
    );
    expect(badToolUse.reason).toMatch(
      /^assistant event does not match its schema: message\.content\.0\.id: .*expected string/,
    );
    const badInit = expectInvalid(parseEventLine('{"type":"system","subtype":"init","tools":"Bash"}'));
    expect(badInit.reason).toContain('session_id');
    expect(badInit.reason).toContain('tools');
    const badRetry = expectInvalid(
      parseEventLine('{"type":"system","subtype":"api_retry","attempt":"two","max_retries":10}'),
    );
    expect(badRetry.reason).toMatch(/attempt: .*expected number/);
    expect(expectInvalid(parseEventLine('{"type":"result","subtype":"success"}')).reason).toMatch(/is_error/);
    expect(
      expectInvalid(parseEventLine('{"type":"user","message":{"content":[{"type":"tool_result","content":"x"}]}}'))
        .reason,
    ).toMatch(/tool_use_id/);
    expect(expectInvalid(parseEventLine('{"type":"assistant","message":{"content":"text"}}')).reason).toMatch(
      /message\.content/,
    );
    expect(expectInvalid(parseEventLine('{"type":"assistant","message":{"content":[1]}}')).reason).toMatch(
      /message\.content\.0: expected an object/,
    );
  });

  it('never throws, whatever the input: each bad line is classified, and a validator that throws is reported', () => {
    const inputs: Array<[string, RegExp]> = [
      ['{', /^not JSON$/],
      ['\u0000', /^not JSON$/],
      ['\uD800', /^not JSON$/],
      ['[1]', /^not a JSON object$/],
      ['{"type":7}', /^no string "type" field$/],
      ['{"type":"system"}', /^system event does not match its schema: subtype: /],
      ['{"type":"assistant"}', /^assistant event does not match its schema: message: /],
      [
        '{"type":"result","subtype":1,"is_error":"no"}',
        /^result event does not match its schema: subtype: .*; is_error: /,
      ],
      ['{"type":"user","message":null}', /^user event does not match its schema: message: /],
    ];
    for (const [line, reason] of inputs) {
      let parsed: ParsedLine | undefined;
      expect(() => (parsed = parseEventLine(line)), line).not.toThrow();
      expect(expectInvalid(parsed!)).toMatchObject({ reason: expect.stringMatching(reason), preview: line });
    }
    // A validator that throws (a zod bug, a refinement gone wrong) is caught too: the line is invalid, the run goes on.
    const spy = vi.spyOn(EVENT_SCHEMAS.system, 'safeParse').mockImplementation(() => {
      throw new Error('validator blew up');
    });
    try {
      let parsed: ParsedLine | undefined;
      expect(() => (parsed = parseEventLine('{"type":"system","subtype":"init"}'))).not.toThrow();
      expect(expectInvalid(parsed!).reason).toBe('parser error: validator blew up');
      expect(spy).toHaveBeenCalledOnce();
    } finally {
      spy.mockRestore();
    }
  });
});
