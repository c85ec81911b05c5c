import { describe, expect, it } from 'vitest';
import { SubmitRequestSchema } from '../../src/shapes/requests.js';
import { camelKeys } from '../../tools/fields.js';
import { readTaskRecord, type TaskRecord } from '../../src/shapes/task-record.js';

// The boundary shapes of src/shapes: a stored record is read back whole (and only when it has the record's shape),
// and a tool's snake_case input becomes the request the service takes without a field copied by hand.
const record: TaskRecord = {
  version: 1,
  id: 't_abcd1234',
  state: 'succeeded',
  createdAt: 1,
  updatedAt: 2,
  request: { prompt: 'p', cwd: '/w', model: 'sonnet', tier: 'comprehensive', timeoutS: 60, idleTimeoutS: 30 },
  owner: { serverId: 's', pid: 1 },
  stats: { events: 3, turns: 1, toolCalls: 0, costUsd: 0.1, inputTokens: 5, outputTokens: 6, apiRetries: 0 },
  tools: [],
  lastText: 'x',
  textTail: 'x',
  permissionDenials: [],
  result: { subtype: 'success', isError: false, text: 'x', numTurns: 1, durationMs: 5, costUsd: 0.1 },
  end: { reason: 'completed', message: 'done' },
  worktree: {
    taskId: 't_abcd1234',
    path: '/p',
    branch: 'b',
    baseCommit: 'c',
    repoRoot: '/r',
    gitDir: '/r/.git',
    cwdInWorktree: '/p',
    createdBranch: true,
  },
  costSeries: [[10, 0.1]],
};

describe('shapes', () => {
  it('reads a stored record back whole, keeping top-level fields a newer server added', () => {
    const stored = JSON.parse(JSON.stringify({ ...record, addedLater: { x: 1 } })) as unknown;
    expect(readTaskRecord(stored)).toEqual({ record: { ...record, addedLater: { x: 1 } } });
  });

  it('names the fields of a record that does not have the shape', () => {
    const bad = readTaskRecord({ ...record, state: 'sleeping', worktree: { path: 5 } });
    expect('unreadable' in bad && bad.unreadable).toMatch(/^state: .*; worktree\.taskId: /);
  });

  it('turns deep_task input into the submitted request by name, dropping what was not given', () => {
    const input = { prompt: 'p', max_budget_usd: 2, idle_timeout_s: 9, keep_worktree: true, base_ref: 'v1' };
    const ask = camelKeys({ ...input, tier: undefined });
    expect(ask).toStrictEqual({ prompt: 'p', maxBudgetUsd: 2, idleTimeoutS: 9, keepWorktree: true, baseRef: 'v1' });
    expect(SubmitRequestSchema.strict().parse(ask)).toEqual(ask);
  });
});
