import type { AssistantEvent, StreamEvent } from '../claude/events.js';
import type { ClaudeRun, RunOutcome, StopReason, StopTimings } from '../claude/run.js';
import { EndInfoSchema } from '../shapes/task-record.js';
import { PendingInputs } from './input-requests.js';
import { StreamedCall, type StreamedCallView } from './streamed-call.js';
import type { EndInfo, EventLine, TaskRecord } from './types.js';

const WRITING_STEP = 256;
const WRITING_TAIL = 2000;

// A run's stop in the words of a task record: a reason the record knows stays as it is; one only a run knows (closed:
// the runner let its run go) is an error, so a record never holds a reason its schema refuses.
function endOf(stop: StopReason): EndInfo {
  const known = EndInfoSchema.safeParse(stop);
  if (known.success) return known.data;
  return { reason: 'error', message: `stopped: ${stop.message} (${stop.reason})`, ...(stop.by ? { by: stop.by } : {}) };
}

// The text block claude is writing right now (from partial messages), until its assistant event arrives.
export interface Writing {
  chars: number;
  tail: string;
}

// One task this server owns, in memory: its record, a bounded ring of recent events, and change listeners. Its run
// (the task runner, the permission hook, answers) changes it through these methods; everyone else reads.
export class LiveTask {
  private seqNo = 0;
  private readonly ring: EventLine[] = [];
  /** A stop asked for before a run carried the task (the run's outcome is the record from then on). */
  private stopAsked?: EndInfo;
  private writingNow?: Writing;
  private readonly streamed = new StreamedCall();
  private run?: ClaudeRun;
  /** The outcome of the run that carried the task, kept when the run is let go. */
  private ranOutcome?: RunOutcome;
  private storeErr?: string;
  private readonly listeners = new Set<() => void>();
  /** Aborted by the first stop: a task still waiting in the queue leaves it through this. */
  private readonly stopController = new AbortController();
  private finished!: () => void;
  /** Questions the task waits on (permission requests), answered through the task service. */
  readonly inputs = new PendingInputs();
  readonly done: Promise<void> = new Promise((resolve) => (this.finished = resolve));

  constructor(
    private readonly rec: TaskRecord,
    private readonly ringSize: number,
    /** Where each event line also goes (the shared stream, in a cluster). */
    private readonly sink?: (seq: number, text: string) => void,
  ) {}

  get id(): string {
    return this.rec.id;
  }

  get record(): Readonly<TaskRecord> {
    return this.rec;
  }

  get seq(): number {
    return this.seqNo;
  }

  get writing(): Readonly<Writing> | undefined {
    return this.writingNow;
  }

  // The tool call whose input has streamed in whole, until its assistant event arrives.
  get calling(): Readonly<StreamedCallView> | undefined {
    return this.streamed.view;
  }

  // How the task stopped, from one record: once a run carries it, the run's outcome (first stop wins there, its own
  // wall and idle timers included; a result first means no stop); before that, the stop asked for.
  get stopped(): EndInfo | undefined {
    const outcome = this.run?.settledOutcome ?? this.ranOutcome;
    if (outcome?.kind === 'stopped') return endOf(outcome.stop);
    return outcome?.kind === 'result' ? undefined : this.stopAsked;
  }

  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  get storeError(): string | undefined {
    return this.storeErr;
  }

  // Changes the record (the runner's only way in) and stamps the change.
  update(change: (record: TaskRecord) => void, at = Date.now()): void {
    change(this.rec);
    this.rec.updatedAt = at;
  }

  // Numbers one logged event and keeps its line (if it has one) in the ring.
  pushEvent(text: string | undefined, at: number): void {
    this.seqNo++;
    if (text === undefined) return;
    this.ring.push({ seq: this.seqNo, at, text });
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    this.sink?.(this.seqNo, text);
  }

  // Lines after `from` (1-based), when the ring still reaches back that far; undefined means "read the disk".
  eventsFrom(from: number, limit: number): EventLine[] | undefined {
    if (this.ring.length > 0 && this.ring[0]!.seq > from && this.seqNo > 0) return undefined;
    return this.ring.filter((e) => e.seq >= from).slice(0, limit);
  }

  // Records why the task should stop (the first reason wins) and stops its run, or takes it out of the queue.
  stop(reason: EndInfo, timings?: StopTimings): Promise<void> {
    if (!this.stopAsked) {
      this.stopAsked = reason;
      this.stopController.abort(reason.message);
    }
    return this.run?.stop(this.stopAsked, timings) ?? Promise.resolve();
  }

  // The run that carries the task from now on (a stop already asked for reaches it at once).
  attach(run: ClaudeRun): void {
    this.run = run;
    if (this.stopAsked) void run.stop(this.stopAsked);
  }

  // Folds one content_block_delta in; true when the written length crossed another WRITING_STEP characters.
  noteDelta(event: StreamEvent): boolean {
    const delta = event.event.delta as { type?: unknown; text?: unknown } | undefined;
    if (delta?.type !== 'text_delta' || typeof delta.text !== 'string' || event.parent_tool_use_id) return false;
    const before = this.writingNow?.chars ?? 0;
    const tail = (this.writingNow?.tail ?? '') + delta.text;
    this.writingNow = {
      chars: before + delta.text.length,
      tail: tail.length > WRITING_TAIL ? tail.slice(-WRITING_TAIL) : tail,
    };
    return Math.floor(this.writingNow.chars / WRITING_STEP) > Math.floor(before / WRITING_STEP) || before === 0;
  }

  // Folds a partial-message event into the tool call being streamed; true when the call became known with it.
  noteStream(event: StreamEvent): boolean {
    return this.streamed.note(event, this.rec.stats.turns, this.rec.stats.lastMessageId);
  }

  // claude retries the API call (system/api_retry): the message being streamed is dropped, and any call it made known.
  retrying(): void {
    this.streamed.clear();
  }

  // The block being written is complete (its assistant event arrived: the streamed call it names is in the record
  // now) or the task ended (no call is being made either).
  endWriting(assistant?: AssistantEvent): Writing | undefined {
    const w = this.writingNow;
    this.writingNow = undefined;
    if (assistant) this.streamed.named(assistant);
    else this.streamed.clear();
    return w;
  }

  noteStoreError(message: string): boolean {
    const first = this.storeErr === undefined;
    this.storeErr = message;
    return first;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const l of [...this.listeners]) l();
  }

  markDone(): void {
    // The process is over: a finished task kept in memory is its record and event ring only.
    const outcome = this.run?.settledOutcome;
    this.ranOutcome = outcome?.kind === 'exited' ? undefined : outcome;
    this.run = undefined;
    this.writingNow = undefined;
    this.streamed.clear();
    this.notify();
    this.finished();
  }
}
