import type { LiveTask } from './live-task.js';
import type { TaskRecord } from './types.js';
import { formatProgress } from './progress.js';

// A token bucket: bursts of up to 3 updates at once, 4 per second sustained.
const BURST = 3;
const PER_SECOND = 4;
const QUIET_BEFORE_RESULT_MS = 15;

// Sends one progress notification to the client that waits.
export type ProgressSend = (u: { progress: number; message: string }) => Promise<void>;

// What a progress pump follows: a task of this server, or one another server runs (followed through the shared store).
export type Followable = Pick<LiveTask, 'seq' | 'onChange'> & {
  readonly record: Readonly<TaskRecord>;
  readonly writing: LiveTask['writing'];
  readonly calling?: LiveTask['calling'];
};

// Sends a task's progress while a request waits on it: at most 4 per second, increasing, and never in the last moments
// before the result.
export function startProgressPump(
  task: Followable | undefined,
  send: ProgressSend | undefined,
): { stop: () => Promise<void> } {
  if (!send || !task) return { stop: async () => {} };
  let counter = 0;
  let lastAt = 0;
  let tokens = BURST;
  let refilledAt = Date.now();
  let lastMessage = '';
  const refill = (now: number) => {
    tokens = Math.min(BURST, tokens + ((now - refilledAt) / 1000) * PER_SECOND);
    refilledAt = now;
  };
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;
  const fire = () => {
    timer = undefined;
    if (stopped) return;
    const now = Date.now();
    const message = formatProgress(task.record, now, task.writing, task.calling);
    // Only the elapsed seconds moved: not worth a notification (nor a token of the bucket).
    const key = message.replace(/ · \d+ s\b/, '');
    if (key === lastMessage) return;
    refill(now);
    tokens -= 1;
    lastAt = now;
    lastMessage = key;
    counter = Math.max(counter + 1, task.seq);
    // The value now, not when the chained send runs: two fires in one tick must not both send the later value.
    const progress = counter;
    inFlight = inFlight.then(() => send({ progress, message }));
  };
  const schedule = () => {
    if (stopped || timer) return;
    refill(Date.now());
    if (tokens >= 1) return fire();
    timer = setTimeout(fire, ((1 - tokens) / PER_SECOND) * 1000);
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
