import { describe, expect, it } from 'vitest';
import { parseEventLine } from '../../src/claude/parse-line.js';
import { LiveTask } from '../../src/tasks/live-task.js';
import { formatProgress } from '../../src/tasks/progress.js';
import { startProgressPump } from '../../src/tasks/progress-pump.js';
import { handleTaskLine, type LineContext } from '../../src/tasks/task-events.js';
import type { TaskRecord } from '../../src/tasks/types.js';
import { taskRecord } from '../support/records.js';

const record = (): TaskRecord => taskRecord({ id: 't_streamed00' });

// The lines claude 2.1.330 prints for one turn that calls Bash (with --include-partial-messages), in its order: the
// assistant event comes after the input has streamed in, and content_block_stop only after that.
const stream = (id: string, command: string) => {
  const input = JSON.stringify({ command, description: 'say it' });
  const cut = Math.floor(input.length / 2);
  const ev = (event: object) => ({ type: 'stream_event', event, session_id: 's' });
  return {
    before: [
      ev({ type: 'message_start', message: { id, type: 'message', role: 'assistant', content: [] } }),
      ev({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: `tu_${id}`, name: 'Bash', input: {} },
      }),
      ev({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: input.slice(0, cut) },
      }),
    ],
    last: ev({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'input_json_delta', partial_json: input.slice(cut) },
    }),
    assistant: {
      type: 'assistant',
      message: {
        id,
        role: 'assistant',
        content: [{ type: 'tool_use', id: `tu_${id}`, name: 'Bash', input: JSON.parse(input) }],
      },
      session_id: 's',
    },
  };
};

// One of the lines above as the stream event claude's parser makes of it (what LiveTask.noteStream takes).
const streamEvent = (value: object) => {
  const parsed = parseEventLine(JSON.stringify(value));
  if (parsed.kind !== 'event' || parsed.event.type !== 'stream_event') throw new Error('not a stream event');
  return parsed.event;
};

function lineContext(task: LiveTask): LineContext {
  return {
    task,
    eventLog: { append: () => {}, close: async () => {}, error: undefined },
    limits: { loopRepeats: 0, maxOutputTokens: 0, maxCostUsd: 0, maxTurns: 0, maxOutputBytes: 1e9 },
    monitor: { repeats: 0, outputBytes: 0 },
    audit: { write: () => {} } as unknown as LineContext['audit'],
    log: { warn: () => {} } as unknown as LineContext['log'],
    stop: () => {},
    save: () => {},
    toolStarted: () => {},
  };
}

describe('a tool call streamed in whole', () => {
  it('is in the progress as soon as its input is complete, and its assistant event sends nothing more', async () => {
    const task = new LiveTask(record(), 10);
    const ctx = lineContext(task);
    const sent: string[] = [];
    const pump = startProgressPump(task, async (u) => void sent.push(u.message));
    const feed = (value: object) => {
      const raw = JSON.stringify(value);
      handleTaskLine({ kind: 'line', raw, parsed: parseEventLine(raw), at: Date.now() }, ctx);
    };
    const named = () => sent.filter((m) => m.includes('Bash: echo')).length;
    for (const [turn, id] of [
      [1, 'msg_a'],
      [2, 'msg_b'],
    ] as const) {
      const s = stream(id, `echo step ${turn}`);
      for (const line of s.before) feed(line);
      await Promise.resolve();
      expect(named()).toBe(turn - 1);
      feed(s.last);
      await new Promise((r) => setImmediate(r));
      // Named before claude's assistant event, with the turn that event will count.
      expect(sent[sent.length - 1]).toMatch(new RegExp(`^turn ${turn} · Bash: echo step ${turn} · `));
      feed(s.assistant);
      await new Promise((r) => setImmediate(r));
      expect(task.record.stats.turns).toBe(turn);
      expect(named()).toBe(turn);
      // Past the bucket's burst, so a second notification for the same call would not be held back.
      await new Promise((r) => setTimeout(r, 300));
    }
    await pump.stop();
    expect(task.calling).toBeUndefined();
  });

  it("with two calls in one message, the first call's assistant event does not take the second one back", () => {
    const task = new LiveTask(record(), 10);
    const ctx = lineContext(task);
    const feed = (value: object) => {
      const raw = JSON.stringify(value);
      handleTaskLine({ kind: 'line', raw, parsed: parseEventLine(raw), at: Date.now() }, ctx);
    };
    // What the progress line names (the pump sends this line), without its cost and time.
    const shown = () => formatProgress(task.record, Date.now(), task.writing, task.calling).split(' · ').slice(0, 2);
    const ev = (event: object) => ({ type: 'stream_event', event, session_id: 's' });
    const input = (n: string) => JSON.stringify({ command: `echo ${n}`, description: `say ${n}` });
    const call = (n: string) => ({ type: 'tool_use', id: `tu_${n}`, name: 'Bash', input: JSON.parse(input(n)) });
    const assistant = (n: string) => ({
      type: 'assistant',
      message: { id: 'msg_two', role: 'assistant', content: [call(n)] },
      session_id: 's',
    });
    const block = (index: number, n: string) => [
      ev({ type: 'content_block_start', index, content_block: { ...call(n), input: {} } }),
      ev({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: input(n) } }),
    ];
    // claude 2.1.330's order when the second input is whole before the first call's assistant event is printed.
    feed(ev({ type: 'message_start', message: { id: 'msg_two', type: 'message', role: 'assistant', content: [] } }));
    const seen: string[][] = [];
    for (const line of [
      ...block(0, 'one'),
      ...block(1, 'two'),
      ev({ type: 'content_block_stop', index: 0 }),
      assistant('one'),
      ev({ type: 'content_block_stop', index: 1 }),
      assistant('two'),
    ]) {
      feed(line);
      const now = shown();
      if (now[1]?.startsWith('Bash') && seen[seen.length - 1]?.join() !== now.join()) seen.push(now);
    }
    expect(seen).toEqual([
      ['turn 1', 'Bash: echo one'],
      ['turn 1', 'Bash: echo two'],
    ]);
    expect(task.record.tools.map((t) => t.summary)).toEqual(['echo one', 'echo two']);
    expect(task.calling).toBeUndefined();
  });

  it('waits for an input that is not whole yet, and ignores a subagent call', () => {
    const task = new LiveTask(record(), 10);
    const s = stream('msg_c', 'echo }');
    for (const line of s.before) task.noteStream(streamEvent(line));
    expect(task.calling).toBeUndefined();
    const sub = { ...s.last, parent_tool_use_id: 'tu_parent' };
    expect(task.noteStream(streamEvent(sub))).toBe(false);
    expect(task.noteStream(streamEvent(s.last))).toBe(true);
    expect(task.calling).toMatchObject({ name: 'Bash', turn: 1 });
  });
  // The stream broke after msg_a's Bash input was whole; claude retried: the retried message has new ids, so msg_a's
  // assistant event never comes. Either the start of the retried message or claude's api_retry line drops the call.
  it('is dropped when another message starts, or claude retries, without its assistant event', () => {
    const retry = {
      type: 'system',
      subtype: 'api_retry',
      attempt: 1,
      max_retries: 10,
      retry_delay_ms: 569,
      error_status: 529,
      error: 'overloaded',
      session_id: 's',
      uuid: 'd7540dd5-8e53-4b62-9208-3c28009c6002',
    };
    for (const after of ['message_start', 'api_retry'] as const) {
      const task = new LiveTask(record(), 10);
      const ctx = lineContext(task);
      const feed = (value: object) => {
        const raw = JSON.stringify(value);
        handleTaskLine({ kind: 'line', raw, parsed: parseEventLine(raw), at: Date.now() }, ctx);
      };
      const broken = stream('msg_a', 'echo never ran');
      for (const line of [...broken.before, broken.last]) feed(line);
      expect(task.calling).toMatchObject({ name: 'Bash', summary: 'echo never ran' });
      const retried = stream('msg_r', 'echo ran');
      if (after === 'api_retry') {
        feed(retry);
        expect(task.calling, after).toBeUndefined();
      }
      feed(retried.before[0]!);
      expect(task.calling, after).toBeUndefined();
      for (const line of [...retried.before.slice(1), retried.last]) feed(line);
      expect(task.calling).toMatchObject({ summary: 'echo ran', turn: 1 });
      feed(retried.assistant);
      expect(task.calling).toBeUndefined();
      expect(task.record.tools.map((t) => t.summary)).toEqual(['echo ran']);
    }
  });

  it("keeps a known call when its own message's start is seen again", () => {
    const task = new LiveTask(record(), 10);
    const s = stream('msg_d', 'echo kept');
    for (const line of [...s.before, s.last]) task.noteStream(streamEvent(line));
    task.noteStream(streamEvent(s.before[0]!));
    expect(task.calling).toMatchObject({ summary: 'echo kept' });
  });
});
