import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClaudeEvent } from '../../src/claude/events.js';
import { parseEventLine } from '../../src/claude/parse-line.js';
import { applyEvent } from '../../src/tasks/apply-event.js';
import type { TaskRecord } from '../../src/tasks/types.js';
import { taskRecord } from '../support/records.js';

const FIXTURES = join(import.meta.dirname, '..', 'claude', 'fixtures');

function blankRecord(): TaskRecord {
  const { startedAt: _, ...rest } = taskRecord({ id: 't', createdAt: 0, updatedAt: 0 });
  return rest;
}

// Folds a captured stream into a record the way a run does: each line parsed and checked, then applied.
function replay(file: string, until?: (ev: ClaudeEvent) => boolean): TaskRecord {
  const record = blankRecord();
  for (const line of readFileSync(join(FIXTURES, file), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const parsed = parseEventLine(line);
    if (parsed.kind !== 'event') continue;
    if (until?.(parsed.event)) break;
    applyEvent(record, parsed.event, 1);
  }
  return record;
}

describe('applyEvent token accounting', () => {
  it('counts output tokens from partial messages before the result arrives (real capture)', () => {
    // Claude's assistant events carry message_start usage (1 output token); message_delta has the real count.
    const before = replay('partial-messages.jsonl', (ev) => ev.type === 'result');
    expect(before.stats.turns).toBe(1);
    expect(before.stats.outputTokens).toBe(7);
    const after = replay('partial-messages.jsonl');
    expect(after.stats.outputTokens).toBe(7);
  });

  it('without partial messages only the result tells the real count', () => {
    const before = replay('bash-tool.jsonl', (ev) => ev.type === 'result');
    const after = replay('bash-tool.jsonl');
    expect(before.stats.outputTokens).toBeLessThan(after.stats.outputTokens);
    expect(after.stats.toolCalls).toBe(1);
  });
});
