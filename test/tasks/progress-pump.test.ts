import { describe, expect, it } from 'vitest';
import { LiveTask } from '../../src/tasks/live-task.js';
import { startProgressPump } from '../../src/tasks/progress-pump.js';
import type { TaskRecord } from '../../src/tasks/types.js';
import { taskRecord } from '../support/records.js';

const record = (): TaskRecord => taskRecord({ id: 't_pump0000', stats: { ...taskRecord().stats, turns: 1 } });

describe('progress pump', () => {
  it('sends strictly increasing progress even when changes come in the same tick as a slow send', async () => {
    const task = new LiveTask(record(), 10);
    const sent: number[] = [];
    // A send that takes a while, so later fires queue up behind it.
    const pump = startProgressPump(task, async (u) => {
      await new Promise((r) => setTimeout(r, 5));
      sent.push(u.progress);
    });
    for (let i = 0; i < 20; i++) task.pushEvent(undefined, 1);
    task.update((r) => r.tools.push({ name: 'Bash', summary: 'one', at: 1 }));
    task.notify();
    task.pushEvent(undefined, 2);
    task.update((r) => r.tools.push({ name: 'Bash', summary: 'two', at: 2 }));
    task.notify();
    await pump.stop();
    expect(sent.length).toBe(3);
    for (let i = 1; i < sent.length; i++) expect(sent[i]).toBeGreaterThan(sent[i - 1]!);
  });
});
