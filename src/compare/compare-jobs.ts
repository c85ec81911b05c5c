import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ToolError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Registry } from '../tasks/registry.js';
import { LOCAL_PRINCIPAL, visibleTo, type Viewer } from '../tasks/types.js';
import { checkTiers } from './prompts-file.js';
import { runCompare } from './run-compare.js';
import { compareTable } from './table.js';
import type { CompareSummary } from './types.js';
import { writeReport, type ReportPaths } from './write-report.js';

const KEEP_JOBS = 50;
const MAX_RUNNING = 2;

// What compare_status shows of one comparison.
export interface CompareStatus {
  compare_id: string;
  state: 'running' | 'done' | 'failed' | 'stopped';
  tiers: [string, string];
  done: number;
  total: number;
  started_at: string;
  ended_at?: string;
  summary?: CompareSummary;
  table?: string;
  json_path?: string;
  html_path?: string;
  error?: string;
}

interface Job {
  status: CompareStatus;
  principal: string;
  controller: AbortController;
  finished: Promise<void>;
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

  constructor(private readonly deps: { registry: Registry; tierNames: string[]; stateDir: string; log: Logger; admit?: (principal: string) => void }) {}

  // Checks the request and starts the comparison in the background; returns its status at once.
  start(req: CompareRequest): CompareStatus {
    const tiers = checkTiers(req.tiers, this.deps.tierNames, 'tiers');
    const running = [...this.jobs.values()].filter((j) => j.status.state === 'running').length;
    if (running >= MAX_RUNNING) throw new ToolError(`refused: ${running} comparisons are already running; wait for one with compare_status`);
    const id = `c_${randomBytes(6).toString('hex')}`;
    const runs = req.runs ?? 1;
    const status: CompareStatus = { compare_id: id, state: 'running', tiers, done: 0, total: req.prompts.length * runs * 2, started_at: new Date().toISOString() };
    const controller = new AbortController();
    const principal = req.viewer?.principal ?? LOCAL_PRINCIPAL;
    const plan = { tiers, prompts: req.prompts, runs };
    const finished = runCompare(this.deps.registry, plan, { signal: controller.signal, principal, clientId: req.clientId, admit: () => this.deps.admit?.(principal), onProgress: (p) => (status.done = p.done) })
      .then((result) => {
        const paths: ReportPaths = writeReport(join(this.deps.stateDir, 'compare', id), result);
        status.summary = result.summary;
        status.table = compareTable(result.summary);
        status.json_path = paths.json;
        status.html_path = paths.html;
        status.state = result.aborted ? 'stopped' : 'done';
      })
      .catch((err: unknown) => {
        status.state = 'failed';
        status.error = (err as Error).message;
        this.deps.log.warn({ compare: id, err: status.error }, 'comparison failed');
      })
      .finally(() => (status.ended_at = new Date().toISOString()));
    this.jobs.set(id, { status, principal, controller, finished });
    this.evict();
    return { ...status };
  }

  // A comparison's status, after waiting up to waitS for it to finish.
  async status(id: string, opts: { waitS?: number; signal?: AbortSignal; viewer?: Viewer } = {}): Promise<CompareStatus> {
    const job = this.jobs.get(id);
    if (!job || !visibleTo({ principal: job.principal }, opts.viewer)) {
      const known = [...this.jobs.entries()].filter(([, j]) => visibleTo({ principal: j.principal }, opts.viewer)).map(([k]) => k);
      throw new ToolError(`compare_id: no comparison ${id} on this server${known.length ? `; recent: ${known.slice(-5).join(', ')}` : ' (comparisons are kept in memory until the server stops)'}`);
    }
    if ((opts.waitS ?? 0) > 0 && job.status.state === 'running') {
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
    return { ...job.status };
  }

  // Stops every running comparison (their tasks are killed) and waits for them to settle.
  async dispose(): Promise<void> {
    for (const job of this.jobs.values()) job.controller.abort();
    await Promise.allSettled([...this.jobs.values()].map((j) => j.finished));
  }

  private evict(): void {
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= KEEP_JOBS) break;
      if (job.status.state !== 'running') this.jobs.delete(id);
    }
  }
}
