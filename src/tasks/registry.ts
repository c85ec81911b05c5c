import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClaudeBinary } from '../claude/find-binary.js';
import { processStartTime } from '../claude/terminate/index.js';
import type { Config } from '../config/schema.js';
import { resolveCwd } from '../cwd.js';
import { ToolError } from '../errors.js';
import type { Logger } from '../log.js';
import { resolveTier } from '../routing.js';
import { getTier } from '../tiers.js';
import type { AuditLog } from '../audit.js';
import type { CircuitBreakers } from '../guards/breaker.js';
import { newTaskId } from './ids.js';
import { launchTask, stopTask, type LaunchDeps } from './launch.js';
import { LiveTask } from './live-task.js';
import { markLost, ownerAlive, recoverOrphans } from './recovery.js';
import { TaskStore } from './store.js';
import { isFinal, type TaskRecord, type TaskState } from './types.js';

// What deep_task asks the registry for.
export interface SubmitRequest {
  prompt: string;
  tier?: string;
  cwd?: string;
  model?: string;
  timeoutS?: number;
  idleTimeoutS?: number;
  maxTurns?: number;
  maxBudgetUsd?: number;
  maxOutputTokens?: number;
  systemPrompt?: string;
  continueTaskId?: string;
  clientId?: string;
}

export interface RegistryOptions {
  config: Config;
  log: Logger;
  serverId: string;
  depth: number;
  claudeBinary: () => ClaudeBinary;
  audit: AuditLog;
  breakers: CircuitBreakers;
}

const KEEP_FINISHED_IN_MEMORY = 300;
const SAVE_THROTTLE_MS = 250;
const FOREIGN_POLL_MS = 500;
const KILL_POLL_MS = 1000;

// Tracks every task: queue, limits, persistence, kills, waits. One per server process, shared by all MCP sessions.
export class Registry {
  readonly store: TaskStore;
  private readonly live = new Map<string, LiveTask>();
  private readonly queue: LiveTask[] = [];
  private readonly running = new Set<LiveTask>();
  private readonly saveTimers = new Map<string, NodeJS.Timeout>();
  private readonly saveChains = new Map<string, Promise<void>>();
  private readonly deps: LaunchDeps;
  private readonly ownerStart = processStartTime(process.pid);
  private closing = false;
  peakRunning = 0;

  private constructor(private readonly options: RegistryOptions) {
    this.store = new TaskStore(options.config.stateDir);
    this.deps = {
      config: options.config,
      log: options.log,
      store: this.store,
      depth: options.depth,
      claudeBinary: options.claudeBinary,
      audit: options.audit,
      breakers: options.breakers,
      save: (task, now) => this.save(task, now),
      finished: (task) => this.onFinished(task),
    };
  }

  // Opens the state dir, declares tasks of dead servers lost, prunes old tasks in the background.
  static async open(options: RegistryOptions): Promise<Registry> {
    const registry = new Registry(options);
    const lost = await recoverOrphans(registry.store, options.log);
    if (lost) options.log.warn({ lost }, 'tasks of a server that died were marked lost');
    const { pruneMaxAgeDays, pruneMaxTasks } = options.config.limits;
    setTimeout(() => {
      registry.store
        .prune({ maxAgeDays: pruneMaxAgeDays, maxTasks: pruneMaxTasks, protect: (id) => registry.live.has(id) })
        .then((n) => n && options.log.info({ removed: n }, 'pruned old tasks'))
        .catch((err: unknown) => options.log.warn({ err }, 'prune failed'));
    }, 2000).unref();
    registry.killPoll = setInterval(() => void registry.takeKillRequests(), KILL_POLL_MS);
    registry.killPoll.unref();
    return registry;
  }

  private killPoll?: NodeJS.Timeout;

  // Another process (the CLI's `kill`) asks the server that owns a task to kill it: a file in <state>/kill-requests/.
  async requestKill(id: string, by: string): Promise<void> {
    const dir = join(this.options.config.stateDir, 'kill-requests');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, id), by);
  }

  private async takeKillRequests(): Promise<void> {
    const dir = join(this.options.config.stateDir, 'kill-requests');
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const id of names) {
      const task = this.live.get(id);
      if (!task || isFinal(task.record.state)) continue;
      const by = await readFile(join(dir, id), 'utf8').catch(() => 'another process');
      await unlink(join(dir, id)).catch(() => {});
      void this.kill(id, `${by.slice(0, 100)} (kill request)`);
    }
  }

  get runningCount(): number {
    return this.running.size;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  // Creates a task and starts it (or queues it); every input problem is a ToolError before anything runs.
  submit(req: SubmitRequest): LiveTask {
    if (this.closing) throw new ToolError('the server is shutting down; no new tasks are accepted');
    const { config } = this.options;
    const { tierName, routed } = resolveTier(req.tier, 'comprehensive', req.prompt);
    const tier = getTier(config, tierName);
    let cwd: string;
    let resumeSessionId: string | undefined;
    if (req.continueTaskId) {
      const prev = this.getRecord(req.continueTaskId);
      if (!prev) throw new ToolError(`continue_task_id: no task ${req.continueTaskId}; ${this.recentIdsHint()}`);
      if (!isFinal(prev.state)) throw new ToolError(`continue_task_id: task ${prev.id} is still ${prev.state}; wait for it to finish (task_status with wait_s) first`);
      if (!prev.sessionId) throw new ToolError(`continue_task_id: task ${prev.id} has no claude session to resume (it never started)`);
      if (req.cwd && resolveCwd(req.cwd, config.allowedRoots) !== prev.request.cwd) throw new ToolError(`cwd: a follow-up runs in the cwd of task ${prev.id} (${prev.request.cwd}); omit cwd`);
      cwd = prev.request.cwd;
      resumeSessionId = prev.sessionId;
    } else cwd = resolveCwd(req.cwd, config.allowedRoots);
    this.options.claudeBinary();
    this.options.breakers.admit(`${tierName}:${req.model ?? tier.model}`);
    if (this.running.size >= config.limits.maxRunning && this.queue.length >= config.limits.maxQueue) {
      throw new ToolError(
        `queue full: ${this.running.size} tasks running and ${this.queue.length} queued (limits: maxRunning ${config.limits.maxRunning}, maxQueue ${config.limits.maxQueue}). ` +
          'Wait for a task to finish (task_status with task_ids and wait_for "any") or kill one, then retry.',
      );
    }
    const now = Date.now();
    const record: TaskRecord = {
      version: 1,
      id: newTaskId(now),
      state: 'queued',
      createdAt: now,
      updatedAt: now,
      request: {
        prompt: req.prompt,
        cwd,
        model: req.model ?? tier.model,
        tier: tierName,
        timeoutS: req.timeoutS ?? tier.timeoutS,
        idleTimeoutS: req.idleTimeoutS ?? tier.idleTimeoutS,
        maxTurns: req.maxTurns,
        maxBudgetUsd: req.maxBudgetUsd,
        maxOutputTokens: req.maxOutputTokens,
        systemPrompt: req.systemPrompt,
        continueTaskId: req.continueTaskId,
        resumeSessionId,
      },
      owner: { serverId: this.options.serverId, pid: process.pid, startTime: this.ownerStart },
      stats: { events: 0, turns: 0, toolCalls: 0, costUsd: 0, inputTokens: 0, outputTokens: 0, apiRetries: 0 },
      tools: [],
      lastText: '',
      textTail: '',
      permissionDenials: [],
      clientId: req.clientId,
      routed,
    };
    const task = new LiveTask(record, config.limits.eventRingSize);
    this.options.audit.write('task_submitted', { task_id: record.id, tier: tierName, model: record.request.model, cwd, prompt: this.options.audit.prompt(req.prompt), client: req.clientId, routed, continue_of: req.continueTaskId });
    this.live.set(record.id, task);
    void this.store.markActive(record.id, process.pid).catch((err: unknown) => this.storeFailed(task, err));
    if (this.running.size < config.limits.maxRunning) this.start(task);
    else {
      this.queue.push(task);
      void this.save(task, true);
    }
    return task;
  }

  private start(task: LiveTask): void {
    this.running.add(task);
    this.peakRunning = Math.max(this.peakRunning, this.running.size);
    launchTask(task, this.deps);
  }

  private onFinished(task: LiveTask): void {
    this.running.delete(task);
    this.pump();
    this.evictFinished();
  }

  private pump(): void {
    while (!this.closing && this.running.size < this.options.config.limits.maxRunning && this.queue.length) this.start(this.queue.shift()!);
  }

  private evictFinished(): void {
    if (this.live.size <= KEEP_FINISHED_IN_MEMORY) return;
    for (const [id, t] of this.live) {
      if (this.live.size <= KEEP_FINISHED_IN_MEMORY) break;
      if (isFinal(t.record.state)) this.live.delete(id);
    }
  }

  // Persists a task's record: now (awaited, for state changes) or coalesced within 250 ms; writes never overlap.
  save(task: LiveTask, now = false): Promise<void> {
    const id = task.id;
    const pending = this.saveTimers.get(id);
    if (!now) {
      if (pending) return Promise.resolve();
      this.saveTimers.set(id, setTimeout(() => void this.save(task, true), SAVE_THROTTLE_MS));
      return Promise.resolve();
    }
    if (pending) clearTimeout(pending);
    this.saveTimers.delete(id);
    const snapshot = structuredClone(task.record);
    const chain = (this.saveChains.get(id) ?? Promise.resolve()).then(() => this.store.writeRecord(snapshot)).catch((err: unknown) => this.storeFailed(task, err));
    this.saveChains.set(id, chain);
    // Settled chains go, so the map holds only saves in flight.
    void chain.then(() => {
      if (this.saveChains.get(id) === chain) this.saveChains.delete(id);
    });
    return chain;
  }

  private storeFailed(task: LiveTask, err: unknown): void {
    const message = (err as Error)?.message ?? String(err);
    if (!task.storeError) this.options.log.warn({ task: task.id, err: message }, 'cannot write task state to disk; the task goes on in memory');
    task.storeError = message;
  }

  // The live task of this server, if it owns it.
  getLive(id: string): LiveTask | undefined {
    return this.live.get(id);
  }

  // A task's record from memory or disk; a foreign unfinished task whose server died is declared lost on the way.
  getRecord(id: string): TaskRecord | undefined {
    const live = this.live.get(id);
    if (live) return live.record;
    return this.store.readRecord(id);
  }

  async refreshForeign(id: string): Promise<TaskRecord | undefined> {
    const record = this.getRecord(id);
    if (!record || this.live.has(id) || isFinal(record.state) || ownerAlive(record)) return record;
    return markLost(this.store, record, this.options.log);
  }

  recentIdsHint(): string {
    const ids = this.list({ limit: 5 }).map((r) => `${r.id} (${r.state})`);
    return ids.length ? `recent tasks: ${ids.join(', ')}` : 'there are no tasks yet; start one with deep_task';
  }

  // Newest first; live tasks of this server plus everything on disk.
  list(options: { state?: TaskState[]; limit?: number } = {}): TaskRecord[] {
    const limit = options.limit ?? 20;
    const out: TaskRecord[] = [];
    for (const id of this.store.listIds()) {
      const rec = this.getRecord(id);
      if (!rec) continue;
      if (options.state && !options.state.includes(rec.state)) continue;
      out.push(rec);
      if (out.length >= limit) break;
    }
    for (const t of this.live.values()) {
      if (out.some((r) => r.id === t.id)) continue;
      if (options.state && !options.state.includes(t.record.state)) continue;
      out.push(t.record);
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, limit);
  }

  // Stops a task and everything it started; idempotent; returns the final record with partial output.
  async kill(id: string, by: string, message?: string): Promise<TaskRecord> {
    const task = this.live.get(id);
    if (!task) {
      const rec = await this.refreshForeign(id);
      if (!rec) throw new ToolError(`task_id: no task ${id}; ${this.recentIdsHint()}`);
      if (isFinal(rec.state)) return rec;
      throw new ToolError(`task ${id} belongs to another claude-tiers server (pid ${rec.owner.pid}) that is still running; kill it from that server's client`);
    }
    if (isFinal(task.record.state)) return task.record;
    const reason = { reason: 'killed' as const, by, message: message ?? `killed by ${by}; partial output kept` };
    this.options.audit.write('task_kill', { task_id: id, by });
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      task.setStopReason(reason);
      Object.assign(task.record, { state: 'killed', end: reason, endedAt: Date.now(), updatedAt: Date.now() });
      await this.save(task, true);
      await this.store.clearActive(id);
      task.markDone();
      return task.record;
    }
    await stopTask(task, reason, this.deps);
    await task.done;
    return task.record;
  }

  // Kills every queued and running task (reason: server shutdown) within a bounded time.
  async shutdown(reason: string, deadlineMs = 1400): Promise<void> {
    this.closing = true;
    if (this.killPoll) clearInterval(this.killPoll);
    const tasks = [...this.live.values()].filter((t) => !isFinal(t.record.state));
    const fast = { ...this.deps, config: { ...this.deps.config, limits: { ...this.deps.config.limits, interruptWaitMs: 250, killGraceMs: 400 } } };
    const all = tasks.map(async (t) => {
      const q = this.queue.indexOf(t);
      if (q >= 0) return this.kill(t.id, 'server', `killed: ${reason}`);
      await stopTask(t, { reason: 'shutdown', by: 'server', message: `killed: ${reason}; partial output kept` }, fast);
      await t.done;
    });
    await Promise.race([Promise.allSettled(all), new Promise((r) => setTimeout(r, deadlineMs).unref())]);
    for (const timer of this.saveTimers.values()) clearTimeout(timer);
    await Promise.race([Promise.allSettled([...this.saveChains.values()]), new Promise((r) => setTimeout(r, 200).unref())]);
  }

  // Resolves when `ready()` holds or the time is up; wakes on changes of live tasks and polls foreign ones.
  async waitUntil(ids: string[], ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (ready()) return true;
    if (timeoutMs <= 0) return false;
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
        const t = this.live.get(id);
        if (t) offs.push(t.onChange(check));
      }
      if (ids.some((id) => !this.live.has(id))) {
        const poll = setInterval(() => {
          for (const id of ids) if (!this.live.has(id)) void this.refreshForeign(id);
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
}
