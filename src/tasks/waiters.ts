import type { LiveTask } from './live-task.js';

const FOREIGN_POLL_MS = 500;

// How a waiter finds tasks: live ones (and, in a cluster, those followed through the shared store) wake it on
// change; the others (another server's) are polled, and so are followed ones, in case a change notice was missed.
export interface WaitSources {
  live(id: string): LiveTask | undefined;
  watch?(id: string, listener: () => void): (() => void) | undefined;
  refreshForeign(id: string): Promise<unknown>;
}

// Resolves when `ready()` holds or the time is up (true when ready); a long-poll never outlives its signal.
export function waitUntil(
  sources: WaitSources,
  ids: string[],
  ready: () => boolean,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (ready()) return Promise.resolve(true);
  if (timeoutMs <= 0) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const offs: Array<() => void> = [];
    let settled = false;
    const done = (value: boolean) => {
      if (settled) return;
      settled = true;
      for (const off of offs) off();
      resolve(value);
    };
    const check = () => ready() && done(true);
    for (const id of ids) {
      const off = sources.live(id)?.onChange(check) ?? sources.watch?.(id, check);
      if (off) offs.push(off);
    }
    if (ids.some((id) => !sources.live(id))) {
      const poll = setInterval(() => {
        for (const id of ids) if (!sources.live(id)) void sources.refreshForeign(id).catch(() => {});
        check();
      }, FOREIGN_POLL_MS);
      offs.push(() => clearInterval(poll));
    }
    const timer = setTimeout(() => done(ready()), timeoutMs);
    offs.push(() => clearTimeout(timer));
    if (signal) {
      const onAbort = () => done(ready());
      signal.addEventListener('abort', onAbort, { once: true });
      offs.push(() => signal.removeEventListener('abort', onAbort));
    }
  });
}
