import type { ClaudeProcess } from '../claude/spawn.js';
import type { EventLog } from './store.js';
import type { MonitorState } from './monitors.js';
import type { EndInfo, EventLine, TaskRecord } from './types.js';

const WRITING_STEP = 256;
const WRITING_TAIL = 2000;

// One task this server owns, in memory: its record, a bounded ring of recent events, and change listeners.
export class LiveTask {
  seq = 0;
  readonly ring: EventLine[] = [];
  proc?: ClaudeProcess;
  eventLog?: EventLog;
  /** The first reason to stop wins; later ones are ignored. */
  stopReason?: EndInfo;
  /** Aborted when the task ends: every timer and listener of the task hangs off it. */
  readonly controller = new AbortController();
  storeError?: string;
  readonly monitor: MonitorState = { repeats: 0, outputBytes: 0 };
  terminating?: Promise<unknown>;
  /** The text block claude is writing right now (from partial messages), until its assistant event arrives. */
  writing?: { chars: number; tail: string };
  private listeners = new Set<() => void>();
  private finished!: () => void;
  readonly done: Promise<void> = new Promise((resolve) => (this.finished = resolve));

  constructor(
    public record: TaskRecord,
    private readonly ringSize: number,
  ) {}

  get id(): string {
    return this.record.id;
  }

  pushLine(text: string, at: number): void {
    this.ring.push({ seq: this.seq, at, text });
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
  }

  // Records why the task should stop; returns false when another reason already won.
  setStopReason(reason: EndInfo): boolean {
    if (this.stopReason) return false;
    this.stopReason = reason;
    return true;
  }

  // Folds one content_block_delta in; true when the written length crossed another WRITING_STEP characters.
  noteDelta(event: Record<string, unknown>): boolean {
    const delta = (event.event as { delta?: { type?: unknown; text?: unknown } } | undefined)?.delta;
    if (delta?.type !== 'text_delta' || typeof delta.text !== 'string' || event.parent_tool_use_id) return false;
    const before = this.writing?.chars ?? 0;
    const tail = (this.writing?.tail ?? '') + delta.text;
    this.writing = { chars: before + delta.text.length, tail: tail.length > WRITING_TAIL ? tail.slice(-WRITING_TAIL) : tail };
    return Math.floor(this.writing.chars / WRITING_STEP) > Math.floor(before / WRITING_STEP) || before === 0;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const l of [...this.listeners]) l();
  }

  markDone(): void {
    // The process and its event log are over: a finished task kept in memory is its record and event ring only.
    this.proc = undefined;
    this.eventLog = undefined;
    this.writing = undefined;
    this.controller.abort('task finished');
    this.notify();
    this.finished();
  }
}
