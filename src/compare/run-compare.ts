import { formatProgress } from '../tasks/progress.js';
import type { TaskService } from '../tasks/service.js';
import { isFinal, type TaskRecord } from '../tasks/types.js';
import { summarize } from './summary.js';
import type { ComparePlan, CompareResult, CompareRun } from './types.js';

const WAIT_SLICE_MS = 60_000;

// One step of the schedule: which prompt, which repetition, which tier.
export interface CompareStep {
  prompt_index: number;
  run: number;
  tier: string;
}

// The run going now: its task, when it was submitted, and its last event (no elapsed time: the reader adds its own).
export interface RunningTask {
  task_id: string;
  since: number;
  event: string;
}

// What a comparison reports before each run, while it goes (each event of its task) and after it ends.
export interface CompareProgress {
  done: number;
  total: number;
  step: CompareStep;
  running?: RunningTask;
  finished?: CompareRun;
}

// How a comparison reports and who it runs as.
export interface RunCompareOptions {
  signal?: AbortSignal;
  /** The tasks belong to this principal (default: the local user). */
  principal?: string;
  clientId?: string;
  /** Throws when the caller may not start another run now (its daily budget is spent). */
  admit?(): void;
  /** Called before each run starts, on each event of its task and after it ends (`done` counts finished runs). */
  onProgress?(p: CompareProgress): void;
}

// Why a comparison was stopped (the abort reason of its signal): recorded as the killer of its running task.
export class StopReason extends Error {
  constructor(readonly by: string) {
    super(`stopped by ${by}`);
  }
}

// The order of the runs: each repetition walks the prompts, and each prompt goes to a then b, so the tiers interleave.
export function schedule(plan: ComparePlan): CompareStep[] {
  const steps: CompareStep[] = [];
  for (let run = 1; run <= plan.runs; run++) {
    for (let i = 0; i < plan.prompts.length; i++)
      for (const tier of plan.tiers) steps.push({ prompt_index: i, run, tier });
  }
  return steps;
}

// The numbers of one finished task.
export function runFromRecord(step: CompareStep, rec: Readonly<TaskRecord>): CompareRun {
  const success = rec.state === 'succeeded' && rec.result?.isError !== true;
  const out: CompareRun = {
    ...step,
    task_id: rec.id,
    state: rec.state,
    success,
    latency_ms: rec.endedAt !== undefined ? rec.endedAt - rec.createdAt : null,
    first_event_ms:
      rec.stats.firstEventAt !== undefined && rec.startedAt !== undefined
        ? rec.stats.firstEventAt - rec.startedAt
        : null,
    cost_usd: rec.stats.costUsd,
    turns: rec.result?.numTurns ?? rec.stats.turns,
    output_tokens: rec.stats.outputTokens,
  };
  if (!success) out.error = rec.end?.message ?? rec.result?.text?.slice(0, 300) ?? rec.state;
  return out;
}

// Runs one prompt on one tier as a deep task and waits for its end; an open permission request is denied (nobody
// watches).
async function runOne(
  registry: TaskService,
  step: CompareStep,
  prompt: string,
  opts: RunCompareOptions,
  report: (r: RunningTask) => void,
): Promise<CompareRun> {
  let id: string;
  try {
    // Each run is a call that starts claude: the caller's daily budget is checked for each one.
    opts.admit?.();
    const reply = await registry.start(
      { prompt, tier: step.tier, clientId: opts.clientId ?? 'compare', principal: opts.principal },
      { waitS: 0 },
    );
    id = String(reply.structured.task_id);
  } catch (err) {
    return {
      ...step,
      state: 'refused',
      success: false,
      latency_ms: null,
      first_event_ms: null,
      cost_usd: 0,
      turns: 0,
      output_tokens: 0,
      error: (err as Error).message,
    };
  }
  // The task's killer is whoever stopped the comparison (its signal's reason), read when it stops.
  const stop = () => {
    const why: unknown = opts.signal?.reason;
    void registry.kill(id, why instanceof StopReason ? why.by : 'compare (stopped)').catch(() => undefined);
  };
  opts.signal?.addEventListener('abort', stop, { once: true });
  if (opts.signal?.aborted) stop();
  // Each event of the task moves the progress: its last event, without the elapsed time (the reader adds its own).
  const onEvent = () => {
    const rec = registry.peek(id);
    if (!rec) return;
    const event = formatProgress(rec, Date.now(), registry.writingOf(id)).replace(/ · \d+ s\b/, '');
    report({ task_id: id, since: rec.createdAt, event });
  };
  const off = registry.watch(id, onEvent);
  onEvent();
  try {
    const state = () => registry.peek(id)?.state ?? 'lost';
    while (!isFinal(state())) {
      await registry.wait(
        [id],
        () => isFinal(state()) || state() === 'needs_input',
        WAIT_SLICE_MS,
        opts.signal?.aborted ? undefined : opts.signal,
      );
      const open = registry.peek(id)?.inputRequest;
      if (state() === 'needs_input' && open) {
        const answered = await registry
          .answer(id, open.request_id, {
            decision: 'deny',
            message: 'a tier comparison runs unattended',
            by: 'compare',
          })
          .then(
            () => true,
            () => false,
          );
        // Not answerable (already answered, or the task is stopping): wait for its state to move instead of spinning.
        if (!answered)
          await registry.wait(
            [id],
            () => state() !== 'needs_input',
            WAIT_SLICE_MS,
            opts.signal?.aborted ? undefined : opts.signal,
          );
      }
    }
  } finally {
    off();
    opts.signal?.removeEventListener('abort', stop);
  }
  return runFromRecord(step, registry.peek(id)!);
}

// Runs every prompt through both tiers, one task at a time in schedule order; stops early when the signal aborts
// (the run it interrupts is not counted).
export async function runCompare(
  registry: TaskService,
  plan: ComparePlan,
  opts: RunCompareOptions = {},
): Promise<CompareResult> {
  const started = new Date();
  const steps = schedule(plan);
  const results: CompareRun[] = [];
  for (const step of steps) {
    if (opts.signal?.aborted) break;
    opts.onProgress?.({ done: results.length, total: steps.length, step });
    const report = (running: RunningTask) => {
      opts.onProgress?.({ done: results.length, total: steps.length, step, running });
    };
    const finished = await runOne(registry, step, plan.prompts[step.prompt_index]!, opts, report);
    // A run the comparison itself stopped measures nothing about the tier: it is left out.
    if (opts.signal?.aborted && !finished.success) break;
    results.push(finished);
    opts.onProgress?.({ done: results.length, total: steps.length, step, finished });
  }
  return {
    version: 1,
    ...plan,
    started_at: started.toISOString(),
    ended_at: new Date().toISOString(),
    aborted: results.length < steps.length,
    results,
    summary: summarize(plan.tiers, results),
  };
}
