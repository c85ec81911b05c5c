import type { TaskRecord } from '../../src/tasks/types.js';

// A task record for tests of what reads, stores or changes one (live task, events, progress, backends): running, no
// stats yet, a request with every required field. A test overrides the fields it is about.
export function taskRecord(over: Partial<TaskRecord> = {}): TaskRecord {
  const now = Date.now();
  return {
    version: 1,
    id: 't_test0000',
    state: 'running',
    createdAt: now,
    startedAt: now,
    updatedAt: now,
    request: { prompt: 'p', cwd: '/', model: 'm', tier: 'comprehensive', timeoutS: 60, idleTimeoutS: 60 },
    owner: { serverId: 's', pid: 1 },
    stats: { events: 0, turns: 0, toolCalls: 0, costUsd: 0, inputTokens: 0, outputTokens: 0, apiRetries: 0 },
    tools: [],
    lastText: '',
    textTail: '',
    permissionDenials: [],
    ...over,
  };
}
