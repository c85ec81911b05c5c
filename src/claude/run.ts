import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import {
  controlResponse,
  decisionPayload,
  initializeRequest,
  interruptRequest,
  permissionRequestOf,
  userMessage,
  type PermissionHook,
  type RunSetup,
  type UserContent,
} from './control.js';
import type { ResultEvent } from './events.js';
import { parseEventLine, type ParsedLine } from './parse-line.js';
import { spawnClaude, type ClaudeProcess, type ExitInfo, type ProcessTable } from './spawn.js';
import { snapshotTree, terminateTree, type ProcInfo } from './terminate/index.js';

// Why a run was stopped, in words for the caller; the first reason given wins.
export interface StopReason {
  reason: string;
  message: string;
  by?: string;
}

// Everything fixed when claude is spawned.
export interface RunSpec {
  bin: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  maxLineBytes: number;
  /** Shared files argv names (stateDir/spare-files), each with the text written there: a kept spec is used, and a warm
   *  spare spawned, only while they hold it (a task's Bash may write there; filesIntact). */
  files?: readonly SpecFile[];
}

// A file a spec names, and the text it was written with.
export interface SpecFile {
  path: string;
  text: string;
}

// True when a file holds the text it was written with (one read; the files are small: settings, prompts, MCP config).
export function holds(file: SpecFile): boolean {
  try {
    return readFileSync(file.path).equals(Buffer.from(file.text));
  } catch {
    return false;
  }
}

// True when every shared file a spec names holds the text it was written with.
export const filesIntact = (spec: RunSpec): boolean => (spec.files ?? []).every(holds);

// How long a stop may take (from config): interrupt → wait → close stdin → SIGTERM → grace → SIGKILL.
export interface StopTimings {
  interruptWaitMs: number;
  killGraceMs: number;
}

// Limits of one turn, with what to say when each trips (the caller's words).
export interface TurnLimits {
  wallMs: number;
  idleMs: number;
  wallStop: StopReason;
  idleStop: StopReason;
}

// The single outcome of a run: claude's result, a stop, or an exit without a result.
export type RunOutcome =
  | { kind: 'result'; result: ResultEvent }
  | { kind: 'stopped'; stop: StopReason }
  | { kind: 'exited'; exit: ExitInfo; stderr: string; preview: string };

// One stdout line as the run saw it (parsed once, here), or an oversized line that was skipped.
export type RunLine =
  | { kind: 'line'; raw: string; parsed: ParsedLine; at: number }
  | { kind: 'oversized'; bytes: number; preview: string; at: number };

const EARLY_LINES = 200;
const PREVIEW_CHARS = 2000;

// One claude process from spawn to its single outcome: stream-json both ways, the control protocol, timers and stop.
export class ClaudeRun {
  private readonly proc: ClaudeProcess;
  private listener?: (line: RunLine) => void;
  private readonly early: RunLine[] = [];
  private permissionHook?: PermissionHook;
  private stopReason?: StopReason;
  private terminating?: Promise<void>;
  private inTurn = false;
  private settled?: RunOutcome;
  private preview = '';
  private readonly timers = new AbortController();
  /** Aborted by the first stop: a question still open then is answered "deny", never "allow". */
  private readonly stopping = new AbortController();
  private wall?: NodeJS.Timeout;
  private idle?: NodeJS.Timeout;
  private idleHolds = 0;
  private idleLimit?: { ms: number; stop: StopReason };
  private settle!: (outcome: RunOutcome) => void;
  readonly outcome: Promise<RunOutcome> = new Promise((resolve) => (this.settle = resolve));
  /** Settles once the process has exited and any stop has finished with its whole tree. */
  readonly ended: Promise<ExitInfo>;

  constructor(
    spec: RunSpec,
    table: ProcessTable,
    private readonly timings: StopTimings,
  ) {
    this.proc = spawnClaude(
      {
        ...spec,
        onLine: (raw) => this.onRaw(raw),
        onOversized: (o) => this.emit({ kind: 'oversized', ...o, at: Date.now() }),
      },
      table,
    );
    this.ended = this.proc.exited.then(async (exit) => {
      this.clearTimers();
      this.finish({ kind: 'exited', exit, stderr: this.proc.stderrTail(), preview: this.preview });
      await this.terminating;
      return exit;
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  get startTime(): string | undefined {
    return this.proc.startTime;
  }

  /** The run's one outcome once it has one (a result, a stop or an exit: the first wins), read without waiting. */
  get settledOutcome(): RunOutcome | undefined {
    return this.settled;
  }

  get stopped(): StopReason | undefined {
    return this.stopReason;
  }

  hasExited(): boolean {
    return this.proc.hasExited();
  }

  stderrTail(): string {
    return this.proc.stderrTail();
  }

  // Every process of the run now (claude and its descendants), for records and memory caps.
  snapshot(): ProcInfo[] {
    return this.proc.hasExited() ? [] : snapshotTree(this.proc.pid).procs;
  }

  // Receives every line from now on, after the ones printed before anyone listened (a spare's start-up).
  onLine(listener: (line: RunLine) => void): void {
    this.listener = listener;
    for (const line of this.early.splice(0)) listener(line);
  }

  // Who answers can_use_tool requests; without a hook they are denied.
  onPermission(hook: PermissionHook): void {
    this.permissionHook = hook;
  }

  // Sends the one prompt of this run (after its set-up, if any) and starts its wall and idle timers.
  send(content: UserContent, limits: TurnLimits, setup?: RunSetup): boolean {
    if (this.settled || this.stopReason) return false;
    if (setup?.jsonSchema) this.proc.writeLine(initializeRequest(`init_${this.proc.pid}`, setup));
    if (!this.proc.writeLine(userMessage(content))) return false;
    this.inTurn = true;
    this.wall = setTimeout(() => void this.stop(limits.wallStop), limits.wallMs);
    this.idleLimit = { ms: limits.idleMs, stop: limits.idleStop };
    this.armIdle();
    return true;
  }

  // While held (a person is deciding a permission request), silence is not a stall: the idle timer waits.
  holdIdle(): () => void {
    this.idleHolds++;
    clearTimeout(this.idle);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this.idleHolds === 0 && this.inTurn) this.armIdle();
    };
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    const limit = this.idleLimit;
    if (limit) this.idle = setTimeout(() => void this.stop(limit.stop), limit.ms);
  }

  // Stops the run when the signal fires, for as long as the run lasts.
  stopOn(signal: AbortSignal | undefined, reason: StopReason): void {
    if (!signal) return;
    if (signal.aborted) void this.stop(reason);
    else signal.addEventListener('abort', () => void this.stop(reason), { once: true, signal: this.timers.signal });
  }

  // Stops claude and everything it started; the first reason wins; resolves when the tree is gone.
  stop(reason: StopReason, timings: StopTimings = this.timings): Promise<void> {
    if (this.stopReason || this.proc.hasExited()) return this.terminating ?? Promise.resolve();
    this.stopReason = reason;
    this.stopping.abort(reason.message);
    this.finish({ kind: 'stopped', stop: reason });
    const interrupting = this.inTurn;
    this.terminating = terminateTree({
      pid: this.proc.pid,
      exited: this.proc.exited,
      interrupt: interrupting ? () => void this.proc.writeLine(interruptRequest(`stop_${this.proc.pid}`)) : undefined,
      closeStdin: () => this.proc.closeStdin(),
      interruptWaitMs: timings.interruptWaitMs,
      graceMs: timings.killGraceMs,
    }).then(
      () => undefined,
      () => undefined,
    );
    return this.terminating;
  }

  // Ends the run however it stands: a finished turn may exit on its own within the kill grace, anything else is
  // stopped.
  async close(reason: StopReason): Promise<void> {
    if (!this.proc.hasExited() && this.settled && !this.stopReason) {
      this.proc.closeStdin();
      await Promise.race([this.proc.exited, delay(this.timings.killGraceMs, undefined, { ref: false })]);
    }
    if (!this.proc.hasExited()) await this.stop(reason);
    await this.ended;
  }

  private finish(outcome: RunOutcome): void {
    if (this.settled) return;
    this.settled = outcome;
    this.settle(outcome);
  }

  private clearTimers(): void {
    clearTimeout(this.wall);
    clearTimeout(this.idle);
    this.timers.abort();
  }

  private onRaw(raw: string): void {
    const at = Date.now();
    if (this.idleHolds === 0) this.idle?.refresh();
    const parsed = parseEventLine(raw);
    if (parsed.kind === 'event') {
      const event = parsed.event;
      if (event.type === 'result') {
        // The one prompt is answered: closing stdin lets claude exit on its own.
        this.inTurn = false;
        clearTimeout(this.wall);
        clearTimeout(this.idle);
        this.finish({ kind: 'result', result: event });
        this.proc.closeStdin();
      } else if (event.type === 'control_request') void this.answerControl(event);
      else if (
        event.type === 'control_response' &&
        event.response.subtype === 'error' &&
        event.response.request_id?.startsWith('init_')
      ) {
        // claude refused the run's set-up (e.g. an output schema it cannot use): say so, rather than a later vaguer
        // error.
        const why = String((event.response as { error?: unknown }).error ?? 'no reason given');
        void this.stop({ reason: 'error', message: `claude refused the run's set-up: ${why}` });
      }
    } else if (this.preview.length < PREVIEW_CHARS) this.preview += `${raw.slice(0, 500)}\n`;
    this.emit({ kind: 'line', raw, parsed, at });
  }

  private emit(line: RunLine): void {
    if (this.listener) this.listener(line);
    else if (this.early.length < EARLY_LINES) this.early.push(line);
  }

  private async answerControl(
    event: Extract<ParsedLine, { kind: 'event' }>['event'] & { type: 'control_request' },
  ): Promise<void> {
    const request = permissionRequestOf(event);
    if (!request) {
      this.proc.writeLine(
        controlResponse(event.request_id, { error: `unsupported control request: ${event.request.subtype}` }),
      );
      return;
    }
    const hook = this.permissionHook;
    let decision: Awaited<ReturnType<PermissionHook>>;
    try {
      decision = hook
        ? await hook(request, AbortSignal.any([this.timers.signal, this.stopping.signal]))
        : { behavior: 'deny', message: 'no one is there to answer permission requests for this run' };
      if (this.stopping.signal.aborted) decision = { behavior: 'deny', message: 'the task is being stopped' };
    } catch (err) {
      decision = { behavior: 'deny', message: `permission request failed: ${(err as Error)?.message ?? String(err)}` };
    }
    this.proc.writeLine(controlResponse(request.requestId, { response: decisionPayload(decision, request.input) }));
  }
}
