import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ToolError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CompareStatus } from '../shapes/compare.js';
import type { TaskService } from '../tasks/service.js';
import { LOCAL_PRINCIPAL, visibleTo, type Viewer } from '../tasks/types.js';
import { checkTiers } from './prompts-file.js';
import { runCompare, StopReason, type CompareProgress } from './run-compare.js';
import { compareTable } from './table.js';
import { writeReport, type ReportPaths } from './write-report.js';

const KEEP_JOBS = 50;
// Each principal's share: comparisons it may run at once. A share per principal, not one limit for the server, so a
// caller that fills its own share never refuses another (their tasks meet again in the task queue and its limits).
export const COMPARE_SHARE = 2;

// What compare_status shows of one comparison: its schema is in src/shapes.
export type { CompareStatus } from '../shapes/compare.js';

interface Job {
  status: CompareStatus;
  /** The run going now, as its last progress report gave it. */
  now?: CompareProgress;
  principal: string;
  controller: AbortController;
  finished: Promise<void>;
}

// A job's status as a caller sees it now: the running run's elapsed time is counted at this moment.
function view(job: Job): CompareStatus {
  const p = job.now;
  if (!p || job.status.state !== 'running') return { ...job.status };
  const progress = p.running
    ? `${p.running.event} · ${Math.round((Date.now() - p.running.since) / 1000)} s`
    : 'starting';
  const { prompt_index, run, tier } = p.step;
  return { ...job.status, current: { prompt_index, run, tier, task_id: p.running?.task_id, progress } };
}

// What a comparison started through the engine asks for.
export interface CompareRequest {
  tiers: string[];
  prompts: string[];
  runs?: number;
  viewer?: Viewer;
  clientId?: string;
}

// Comparisons started over MCP, run in the background and kept in memory under ids like c_3f9a…; their files go
// under <stateDir>/compare/<id>/. Owned by the engine, disposed with it.
export class CompareJobs {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly deps: {
      registry: TaskService;
      tierNames: string[];
      stateDir: string;
      log: Logger;
      admit?: (principal: string) => void;
    },
  ) {}

  // Checks the request and starts the comparison in the background; returns its status at once.
  start(req: CompareRequest): CompareStatus {
    const tiers = checkTiers(req.tiers, this.deps.tierNames, 'tiers');
    const principal = req.viewer?.principal ?? LOCAL_PRINCIPAL;
    const own = [...this.jobs.entries()].filter(([, j]) => j.principal === principal && j.status.state === 'running');
    // Refused with the caller's own numbers only: nothing about other callers' comparisons.
    if (own.length >= COMPARE_SHARE) {
      throw new ToolError(
        `refused: you already run ${own.length} comparisons (${own.map(([k]) => k).join(', ')}), ` +
          `your share is ${COMPARE_SHARE} at once; ` +
          'wait for one with compare_status or stop one with kill_task { compare_id }',
      );
    }
    const id = `c_${randomBytes(6).toString('hex')}`;
    const runs = req.runs ?? 1;
    const status: CompareStatus = {
      compare_id: id,
      state: 'running',
      tiers,
      done: 0,
      total: req.prompts.length * runs * 2,
      started_at: new Date().toISOString(),
    };
    const controller = new AbortController();
    const plan = { tiers, prompts: req.prompts, runs };
    const job: Job = { status, principal, controller, finished: Promise.resolve() };
    const onProgress = (p: CompareProgress) => {
      status.done = p.done;
      job.now = p.finished ? undefined : p;
    };
    const admit = () => this.deps.admit?.(principal);
    const runOpts = { signal: controller.signal, principal, clientId: req.clientId, admit, onProgress };
    job.finished = runCompare(this.deps.registry, plan, runOpts)
      .then((result) => {
        const failed = result.results.filter((r) => !r.success);
        const first = failed[0];
        if (first) {
          status.failed_runs = failed.length;
          const which = `prompt ${first.prompt_index + 1} run ${first.run} on ${first.tier}`;
          status.first_failure = `${which}: ${first.error ?? first.state}`;
        }
        const paths: ReportPaths = writeReport(join(this.deps.stateDir, 'compare', id), result);
        status.summary = result.summary;
        status.table = compareTable(result.summary);
        status.json_path = paths.json;
        status.html_path = paths.html;
        const allFailed = failed.length > 0 && failed.length === result.results.length;
        status.state = result.aborted ? 'stopped' : allFailed ? 'failed' : 'done';
        const why: unknown = controller.signal.reason;
        if (result.aborted && why instanceof StopReason) status.stopped_by = why.by;
        if (status.state === 'failed')
          status.error = `every run failed (${failed.length}); the first: ${status.first_failure}`;
      })
      .catch((err: unknown) => {
        status.state = 'failed';
        status.error = (err as Error).message;
        this.deps.log.warn({ compare: id, err: status.error }, 'comparison failed');
      })
      .finally(() => {
        job.now = undefined;
        status.ended_at = new Date().toISOString();
      });
    this.jobs.set(id, job);
    this.evict();
    return view(job);
  }

  // A comparison's status, after waiting up to waitS for it to finish.
  // With stopOnAbort, the wait is the caller's own call for the comparison: its signal aborting stops the comparison.
  async status(
    id: string,
    opts: { waitS?: number; signal?: AbortSignal; viewer?: Viewer; stopOnAbort?: string } = {},
  ): Promise<CompareStatus> {
    const job = this.find(id, opts.viewer);
    if ((opts.waitS ?? 0) > 0 && job.status.state === 'running' && !opts.signal?.aborted) {
      let timer: NodeJS.Timeout | undefined;
      let onAbort = () => {};
      await Promise.race([
        job.finished,
        new Promise<void>((r) => (timer = setTimeout(r, opts.waitS! * 1000))),
        new Promise<void>((r) => {
          onAbort = r;
          opts.signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (opts.stopOnAbort && opts.signal?.aborted) return this.cancel(id, opts.stopOnAbort, opts.viewer);
    return view(job);
  }

  // Stops a comparison of the viewer's: its running task is killed, the runs done so far are reported, and its place in
  // the caller's share is free once this returns. Idempotent: a finished comparison's status is returned as it is.
  async cancel(id: string, by: string, viewer?: Viewer): Promise<CompareStatus> {
    const job = this.find(id, viewer);
    if (job.status.state === 'running') job.controller.abort(new StopReason(by));
    await job.finished;
    return view(job);
  }

  // Stops every running comparison (their tasks are killed) and waits for them to settle.
  async dispose(): Promise<void> {
    for (const job of this.jobs.values()) job.controller.abort(new StopReason('server shutdown'));
    await Promise.allSettled([...this.jobs.values()].map((j) => j.finished));
  }

  // A comparison the viewer may see; another principal's is as unknown as a missing one.
  private find(id: string, viewer: Viewer | undefined): Job {
    const job = this.jobs.get(id);
    if (job && visibleTo({ principal: job.principal }, viewer)) return job;
    const known = [...this.jobs.entries()]
      .filter(([, j]) => visibleTo({ principal: j.principal }, viewer))
      .map(([k]) => k);
    const kept = ' (comparisons are kept in memory until the server stops)';
    const hint = known.length ? `; recent: ${known.slice(-5).join(', ')}` : kept;
    throw new ToolError(`compare_id: no comparison ${id} on this server${hint}`);
  }

  private evict(): void {
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= KEEP_JOBS) break;
      if (job.status.state !== 'running') this.jobs.delete(id);
    }
  }
}
