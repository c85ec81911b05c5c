import type { LiveTask } from './live-task.js';
import { formatProgress } from './progress.js';

const MIN_GAP_MS = 250;
const QUIET_BEFORE_RESULT_MS = 15;

type Send = (u: { progress: number; message: string }) => Promise<void>;

// Sends a task's progress while a request waits on it: at most 4 per second, increasing, and never in the last moments before the result.
export function startProgressPump(task: LiveTask, send: Send | undefined): { stop: () => Promise<void> } {
  if (!send) return { stop: async () => {} };
  let counter = 0;
  let lastAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;
  const fire = () => {
    timer = undefined;
    if (stopped) return;
    lastAt = Date.now();
    counter = Math.max(counter + 1, task.seq);
    const message = formatProgress(task.record, lastAt);
    inFlight = inFlight.then(() => send({ progress: counter, message }));
  };
  const schedule = () => {
    if (stopped || timer) return;
    const wait = Math.max(0, lastAt + MIN_GAP_MS - Date.now());
    timer = setTimeout(fire, wait);
  };
  const off = task.onChange(schedule);
  fire();
  return {
    async stop() {
      stopped = true;
      off();
      if (timer) clearTimeout(timer);
      await inFlight;
      const gap = Date.now() - lastAt;
      if (gap < QUIET_BEFORE_RESULT_MS) await new Promise((r) => setTimeout(r, QUIET_BEFORE_RESULT_MS - gap));
    },
  };
}
