import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClaudeEvent } from '../../src/claude/events.js';
import { parseEventLine } from '../../src/claude/parse-line.js';
import { decisionText, describeEvent, oneLine, summarizeToolInput } from '../../src/claude/summarize.js';

const fixture = (name: string): ClaudeEvent[] =>
  readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const p = parseEventLine(l);
      if (p.kind !== 'event') throw new Error(`${name}: not an event: ${l.slice(0, 100)}`);
      return p.event;
    });
const event = (value: object): ClaudeEvent => {
  const p = parseEventLine(JSON.stringify(value));
  if (p.kind !== 'event') throw new Error(JSON.stringify(p));
  return p.event;
};
const described = (name: string) => fixture(name).map(describeEvent);

describe('summarizeToolInput', () => {
  it('picks the field that says what the tool does', () => {
    expect(summarizeToolInput('Bash', { command: 'sleep 5', description: 'wait' })).toBe('sleep 5');
    expect(summarizeToolInput('Read', { file_path: '/a/b.ts', offset: 3 })).toBe('/a/b.ts');
    expect(summarizeToolInput('Edit', { file_path: '/a/c.ts', old_string: 'x', new_string: 'y' })).toBe('/a/c.ts');
    expect(summarizeToolInput('Write', { content: 'lots', file_path: '/a/d.ts' })).toBe('/a/d.ts');
    expect(summarizeToolInput('Grep', { path: 'src', pattern: 'TODO\\(' })).toBe('TODO\\(');
    expect(summarizeToolInput('Glob', { pattern: '**/*.ts' })).toBe('**/*.ts');
    expect(summarizeToolInput('WebFetch', { prompt: 'summarize', url: 'https://example.com/x' })).toBe(
      'https://example.com/x',
    );
    expect(summarizeToolInput('mcp__memory__create_entities', { count: 2, name: 'alice', kind: 'person' })).toBe(
      'alice',
    );
  });

  it('falls back to compact JSON for other tools, missing fields and MCP calls without strings', () => {
    expect(summarizeToolInput('TodoWrite', { todos: [{ content: 'a' }] })).toBe('{"todos":[{"content":"a"}]}');
    expect(summarizeToolInput('Bash', { timeout: 5 })).toBe('{"timeout":5}');
    expect(summarizeToolInput('mcp__x__y', { n: 1, ok: true })).toBe('{"n":1,"ok":true}');
    expect(summarizeToolInput('Bash', 'raw string')).toBe('raw string');
    expect(summarizeToolInput('Bash', undefined)).toBe('');
    expect(summarizeToolInput('X', [1, 2])).toBe('[1,2]');
  });

  it('returns one line of at most max characters, ending in … when cut', () => {
    expect(summarizeToolInput('Bash', { command: 'cd /tmp &&\n  ls -la\t| head' })).toBe('cd /tmp && ls -la | head');
    const long = summarizeToolInput('Bash', { command: `echo ${'x'.repeat(200)}` });
    expect(long).toHaveLength(80);
    expect(long.endsWith('x…')).toBe(true);
    expect(summarizeToolInput('Bash', { command: 'abcdef' }, 4)).toBe('abc…');
    expect(summarizeToolInput('Bash', { command: 'x'.repeat(80) })).toBe('x'.repeat(80));
  });

  it('never leaves half a surrogate pair at the cut', () => {
    expect(oneLine('ab🎉cd', 4)).toBe('ab…');
    expect(oneLine('ab🎉cd', 5)).toBe('ab🎉…');
    expect(oneLine('anything', 0)).toBe('');
  });
});

describe('describeEvent on real claude output', () => {
  it('describes a plain answer: start, text, result', () => {
    const [init, text, result] = described('text-success.jsonl');
    expect(init).toMatch(/^started · model claude-opus-5-5 · session [0-9a-f-]{36}$/);
    expect(text).toBe('text: Hello world! Ünïcödé ✓ 日本語');
    expect(result).toBe('result success · 1 turns · $0.0002');
  });

  it('describes a Bash tool call and its result', () => {
    expect(described('bash-tool.jsonl').slice(1)).toEqual([
      'text: Running it.',
      'tool Bash: echo hi from bash',
      'tool result: hi from bash',
      'text: Done: the command ran.',
      'result success · 2 turns · $0.0004',
    ]);
  });

  it('describes API retries and errors with their status and reason', () => {
    const lines = described('api-error-529.jsonl');
    expect(lines[1]).toBe('api retry 1/1 (529)');
    expect(lines[3]).toMatch(
      /^result success \(error\) · 1 turns · \$0\.0000 · api_error: API Error: 529 Overloaded\./,
    );
    expect(lines[3]!.endsWith('…')).toBe(true);
    expect(lines[3]!.length).toBeLessThanOrEqual(130);
    expect(described('max-turns.jsonl').at(-1)).toBe(
      'result error_max_turns (error) · 2 turns · $0.0002 · max_turns: Reached maximum number of turns (1)',
    );
  });

  it('describes model fallback, slow-Bash tasks, denials, thinking and control messages; skips noise', () => {
    expect(described('model-fallback.jsonl')).toContain('model fallback → claude-sonnet-5-5');
    expect(described('slow-bash-task.jsonl')).toEqual(
      expect.arrayContaining(['task started: run it', 'task completed: run it', 'tool Bash: sleep 5 && echo slept']),
    );
    const denied = described('permission-denied.jsonl');
    expect(denied).toContain('permission denied: Write');
    expect(denied).toEqual(
      expect.arrayContaining([
        'tool result (1 error): Claude requested permissions to write to /tmp/sse/should-not-exist.txt, but you…',
      ]),
    );
    expect(described('thinking.jsonl')).toContain('thinking: Let me think about it.');
    expect(described('can-use-tool.jsonl')).toContain(
      'control request can_use_tool: Bash touch made-by-test && rm -rf nothing',
    );
    const interrupted = described('interrupt.jsonl');
    expect(interrupted).toContain('control response success (r1)');
    // Issue 11, finding 12: an interrupted turn is described by its reason, never by claude's internal diagnostic text.
    expect(interrupted.at(-1)).toMatch(
      /^result error_during_execution \(error\) · 3 turns · \$0\.0002 · interrupted \(aborted_tools\)$/,
    );
    const partial = fixture('partial-messages.jsonl');
    expect(
      partial
        .filter((e) => e.type === 'stream_event' || (e.type === 'system' && e.subtype === 'status'))
        .map(describeEvent),
    ).toEqual(Array(7).fill(undefined));
  });
});

describe('describeEvent on hand-made events', () => {
  it('reports a connection failure retry and joins several blocks of one message', () => {
    expect(
      describeEvent(
        event({
          type: 'system',
          subtype: 'api_retry',
          attempt: 2,
          max_retries: 10,
          retry_delay_ms: 1000,
          error_status: null,
          error: 'unknown',
        }),
      ),
    ).toBe('api retry 2/10 (connection)');
    const multi = event({
      type: 'assistant',
      message: {
        content: [
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 't1', name: 'Read', input: { file_path: '/x' } },
          { type: 'image' },
        ],
      },
    });
    expect(describeEvent(multi)).toBe('text: Let me look. | tool Read: /x');
    expect(
      describeEvent(event({ type: 'assistant', message: { content: [{ type: 'text', text: '   ' }] } })),
    ).toBeUndefined();
    expect(describeEvent(event({ type: 'user', message: { content: 'a prompt echo' } }))).toBeUndefined();
    const results = event({
      type: 'user',
      message: {
        content: [
          { type: 'tool_result', tool_use_id: 'a', content: [{ type: 'text', text: 'ok' }, { type: 'image' }] },
          { type: 'tool_result', tool_use_id: 'b', is_error: true, content: 'boom' },
        ],
      },
    });
    expect(describeEvent(results)).toBe('tool results (1 error): ok [image]');
    expect(describeEvent(event({ type: 'system', subtype: 'hook_started' }))).toBeUndefined();
  });

  it("shows the model's tool names, a denied tool's name and the model escaped, never raw", () => {
    const name = 'Read\u001b]0;owned\u0007';
    const call = event({
      type: 'assistant',
      message: { content: [{ type: 'tool_use', id: 't1', name, input: { file_path: '/x' } }] },
    });
    expect(describeEvent(call)).toBe('tool Read\\u{1b}]0;owned\\u{7}: {"file_path":"/x"}');
    const denied = event({ type: 'system', subtype: 'permission_denied', tool_name: name });
    expect(describeEvent(denied)).toBe('permission denied: Read\\u{1b}]0;owned\\u{7}');
    const init = event({ type: 'system', subtype: 'init', model: 'm\u001b[2J', session_id: 's1' });
    expect(describeEvent(init)).toBe('started · model m\\u{1b}[2J · session s1');
  });
});

// Issue 19, item 12: what a person decides on is shown whole, or head and tail with its length.
describe('decisionText', () => {
  it('shows the whole input as JSON, the key field first, hiding characters escaped', () => {
    const input = { description: 'list', command: 'ls\nrm -rf ~ \u202e', timeout: 5 };
    expect(decisionText('Bash', input)).toBe('{"command":"ls\\nrm -rf ~ \\u{202e}","description":"list","timeout":5}');
  });

  it('shortens to head … tail with the length, never splitting a surrogate pair', () => {
    const command = `curl x; ${'a'.repeat(500)}; echo DANGER 😀`;
    const short = decisionText('Bash', { command }, 120);
    expect(short.length).toBeLessThanOrEqual(120);
    expect(short).toMatch(/^\{"command":"curl x; a+ … a+; echo DANGER 😀"\} \(shortened, 5\d\d chars\)$/);
    expect(decisionText('Bash', { command }, 10_000)).not.toContain('shortened');
  });
});
