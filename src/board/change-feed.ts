import { randomBytes } from 'node:crypto';

const KEEP = 5000;

// A position in the feed as an SSE event id: this process's boot tag and a sequence number, so an id from before a
// restart (or from another server) is never mistaken for one of ours.
export interface FeedPosition {
  boot: string;
  seq: number;
}

// The ids of tasks that changed, numbered in order and kept for a while, so a client that reconnects with its
// Last-Event-ID gets what it missed. It subscribes to its source only while someone watches.
export class ChangeFeed {
  readonly boot = randomBytes(4).toString('hex');
  private seqNo = 0;
  private readonly recent: Array<{ seq: number; id: string }> = [];
  private readonly waiters = new Set<() => void>();
  private unsubscribe?: () => void;
  private watchers = 0;

  constructor(private readonly subscribe: (listener: (id: string) => void) => () => void) {}

  get seq(): number {
    return this.seqNo;
  }

  // The ids changed after `seq` (undefined when the feed no longer reaches back that far).
  since(seq: number): string[] | undefined {
    if (seq > this.seqNo) return undefined;
    if (seq < this.seqNo && (this.recent[0]?.seq ?? Infinity) > seq + 1) return undefined;
    // Numbers in `recent` run without gaps, so the first one after `seq` is found by subtraction, not a scan.
    const from = Math.max(0, seq + 1 - (this.recent[0]?.seq ?? seq + 1));
    return [...new Set(this.recent.slice(from).map((c) => c.id))];
  }

  // Waits for a change after `after` (at once when one came already), or the signal; false when aborted. The changes
  // of one turn of the event loop come together, at once after a quiet spell; a busy feed is handed out no earlier
  // than `notBefore` (a watcher's pace).
  next(signal: AbortSignal, after: number, notBefore = 0): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiters.delete(wake);
        resolve(false);
      };
      const wake = () => {
        signal.removeEventListener('abort', onAbort);
        const done = () => resolve(!signal.aborted);
        const wait = notBefore - Date.now();
        if (wait > 0) setTimeout(done, wait);
        else setImmediate(done);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.seqNo > after) wake();
      else this.waiters.add(wake);
    });
  }

  // One more watcher: the feed listens to its source from the first until the last is gone (pair with release).
  // Changes made while nobody listened were not counted, so every first watcher starts a new stretch (the very first
  // too: position 0 is handed out): every older position then reaches back too far, and a reconnecting page gets the
  // whole list, not an empty catch-up.
  retain(): void {
    if (this.watchers++ > 0) return;
    this.recent.length = 0;
    this.seqNo++;
    this.unsubscribe = this.subscribe((id) => this.push(id));
  }

  release(): void {
    if (--this.watchers === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    }
  }

  private push(id: string): void {
    this.recent.push({ seq: ++this.seqNo, id });
    if (this.recent.length > KEEP) this.recent.splice(0, this.recent.length - KEEP);
    const woken = [...this.waiters];
    this.waiters.clear();
    for (const w of woken) w();
  }
}

// Reads an SSE Last-Event-ID of this feed ("boot:seq"); undefined when absent or from another process.
export function parsePosition(value: string | null | undefined, boot: string): number | undefined {
  const m = value ? /^([0-9a-f]{8}):(\d{1,15})$/.exec(value) : null;
  return m && m[1] === boot ? Number(m[2]) : undefined;
}
