import type { ClusterHandlers } from './handlers.js';
import type { LiveTask } from '../live-task.js';
import { isFinal } from '../types.js';

// What the task service offers the cluster's handlers.
export interface DutyParts {
  live(id: string): LiveTask | undefined;
  liveIds(): string[];
  kill(id: string, by: string): Promise<unknown>;
  /** Reads a task again, declaring it lost when its server is gone (or no longer runs it). */
  check(id: string): Promise<unknown>;
  killRequests(ids: string[]): Promise<string[]>;
}

// What this server does for the cluster: it kills and answers the tasks it runs when another server asks (by
// pub/sub, and by the kill requests left in Redis, in case a message was missed), checks claimed tasks for a dead
// owner, and stops a task of its own that the cluster declared lost (its writes are refused).
export function clusterDuties(p: DutyParts): ClusterHandlers {
  const running = (id: string): LiveTask | undefined => {
    const t = p.live(id);
    return t && !isFinal(t.record.state) ? t : undefined;
  };
  return {
    control(m) {
      const task = running(m.id);
      if (!task) return;
      if (m.kind === 'kill') void p.kill(m.id, `${m.by} (through the cluster)`);
      else task.inputs.answer(m.requestId, m.answer);
    },
    suspect: (id) => void p.check(id).catch(() => undefined),
    tick() {
      const ids = p.liveIds().filter((id) => running(id));
      void p.killRequests(ids).then((asked) => {
        for (const id of asked)
          if (running(id) && !running(id)!.stopped) void p.kill(id, 'a kill request (through the cluster)');
      });
    },
    refused(record) {
      const message =
        'stopped: the cluster declared this task lost (this server could not reach Redis, or did not ' +
        'answer, for longer than a heartbeat); partial output kept';
      void running(record.id)?.stop({ reason: 'lost', message });
    },
  };
}
