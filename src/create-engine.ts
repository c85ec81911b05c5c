import { randomUUID } from 'node:crypto';
import { AnswerCache } from './answer-cache.js';
import { AuditLog } from './audit.js';
import { claudeBinaryOf } from './claude/find-binary.js';
import { describeContainment, probeContainment } from './claude/contain.js';
import { ProcessTable } from './claude/spawn.js';
import { CompareJobs } from './compare/compare-jobs.js';
import type { Config } from './config/schema.js';
import { Spending } from './cost/spending.js';
import type { Engine, ToolAdmission } from './engine.js';
import { CircuitBreakers } from './guards/breaker.js';
import { RateLimiter } from './guards/rate-limit.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics/metrics.js';
import { modelLabeler } from './metrics/model-label.js';
import { serverStats } from './metrics/server-stats.js';
import type { QuickAnswer } from './quick/answer.js';
import { QuickTier } from './quick/quick-answer.js';
import { warmDefaultSpares, type QuickDeps } from './quick/spares.js';
import { SpecCache } from './tier-run/spec-cache.js';
import { stopTimings } from './tier-run/tier-run.js';
import { SparePool } from './spares/spare-pool.js';
import { TaskService } from './tasks/service.js';
import type { TaskBackend } from './tasks/backend.js';
import { LocalBackend } from './tasks/local/local-backend.js';
import { RepoLocks } from './isolation/repo-locks.js';
import { configPaths } from './isolation/sandbox-hidden.js';
import { Notifier } from './notify/notifier.js';
import { stateSecret } from './state-dir.js';
import { lazySharedSecret } from './cluster/shared-secret.js';
import { tapHandler } from './notify/tap-page.js';
import { TaskStore } from './tasks/store.js';
import type { TaskRecord } from './tasks/types.js';
import type { Cluster } from './tasks/redis/cluster.js';
import { shareBudgets, SharedRateLimiter, type Admission } from './cluster/shared-limits.js';

// The links key of a lone server, read at start-up: asked for like the cluster's (which waits for Redis).
const known = (key: Buffer) => async (): Promise<Buffer> => key;

// Builds the engine: config, logger, claude lookup, spares, guards and the task registry, with one dispose for all of
// it.
export async function createEngine(config: Config, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const depth = Number.parseInt(env.CLAUDE_TIERS_DEPTH ?? '0', 10) || 0;
  const serverId = randomUUID();
  const claudeBinary = claudeBinaryOf(env, depth, config, (message) => log.warn(message));
  const procs = new ProcessTable(probeContainment({ env }));
  log.info({ containment: describeContainment(procs.containment) }, 'task containment');
  const audit = new AuditLog(config.stateDir, {
    maxBytes: config.limits.auditMaxBytes,
    keepPrompts: config.limits.auditPrompts,
  });
  const metrics = new Metrics({ modelLabel: modelLabeler(config) });
  const breakers = new CircuitBreakers({
    threshold: config.limits.breakerThreshold,
    cooldownMs: config.limits.breakerCooldownS * 1000,
    onTransition: (key, to) => metrics.breakerTransition(key, to),
  });
  const rates = {
    perMinute: config.limits.ratePerMinute,
    burst: config.limits.rateBurst,
    globalPerMinute: config.limits.globalRatePerMinute,
  };
  const spending = Spending.open(config, (message) => log.warn(message));
  const cluster = config.redis ? await openCluster(config, serverId, log) : undefined;
  // In a cluster, rate limits and daily budgets are the cluster's, kept in Redis.
  const rateLimiter: Admission = cluster
    ? new SharedRateLimiter(cluster.connection, config.redis!.prefix, rates)
    : new RateLimiter(rates);
  const stopSharing = cluster
    ? shareBudgets(spending.budgets, cluster.connection, config.redis!.prefix, Object.keys(config.budgets).length > 0)
    : () => {};
  // Worked out once for every run: where the user's config may be, and the specs of runs with a tier's shared files.
  const configCandidates = configPaths(env, config.configFile);
  const sharedSpecs = new SpecCache();
  const runDeps = {
    config,
    log,
    env,
    depth,
    procs,
    breakers,
    audit,
    metrics,
    claudeBinary,
    spending,
    configCandidates,
    sharedSpecs,
  };
  // Spares are shared by the quick path and by deep tasks of tiers that keep them.
  const spares = new SparePool({
    log,
    ttlMs: config.limits.spareTtlS * 1000,
    table: procs,
    timings: stopTimings(config.limits),
    shutdownTimings: stopTimings(config.limits, true),
    memoryMb: config.limits.spareMemoryMb,
    warmupS: config.limits.spareWarmupS,
    idleS: config.limits.spareIdleS,
    maxKeys: config.limits.spareKeys,
    tickMs: 1000,
    binaryGone: (path) => claudeBinary.forget(path),
  });
  // One-tap approval links exist only with notify: their key is made then, and only then is their page served. In a
  // cluster every server shares one key, so a link works on whichever server a request reaches; it is read from Redis
  // when first needed (asked for now, not waited for): a Redis down at start-up does not stop the server.
  const linkKey = !config.notify
    ? undefined
    : cluster
      ? lazySharedSecret(cluster.connection, config.redis!.prefix, 'links-key')
      : known(stateSecret(config.stateDir, 'links.key'));
  linkKey?.().catch((err: unknown) =>
    log.warn({ err: (err as Error).message }, 'one-tap links: no key yet; links are left out until Redis answers'),
  );
  const notifier = config.notify && linkKey ? new Notifier(config.notify, linkKey, log) : undefined;
  // The one place the task storage is chosen: a state dir of this machine, or the cluster's Redis.
  const locks = new RepoLocks();
  const backend = await openBackend(config, {
    log,
    locks,
    cluster,
    depth,
    guardDepth: () => depth >= config.maxDepth && claudeBinary(),
  });
  const registry = await TaskService.open({ ...runDeps, serverId, spares, backend, locks, notifier });
  // The cost model starts from the state dir's recent succeeded tasks, read after start-up so it never waits.
  setImmediate(() => {
    registry
      .list({ state: ['succeeded'], limit: 100 })
      .then((records) => spending.learn(records.reverse()))
      .catch((err: unknown) =>
        log.warn(
          { err: (err as Error).message },
          'cost model: cannot read recent tasks; estimates start from defaults',
        ),
      );
  });
  const cache = new AnswerCache<QuickAnswer>({
    maxEntries: config.limits.cacheMaxEntries,
    maxBytes: config.limits.cacheMaxBytes,
  });
  const quickDeps: QuickDeps = { ...runDeps, spares, cache };
  let warmed = false;
  const warmSpares = () => {
    warmed = true;
    void warmDefaultSpares(quickDeps);
  };
  // The lookup is the one place that knows a binary is gone (a run's or a spare's spawn found it so): the specs and
  // the spares made from it go; once claude is found again, the tiers' default spares are kept warm from that one.
  // Every kept spec names the binary in use, so they go when that one is gone (an older one's went with it then).
  claudeBinary.watch({
    gone: (path, kept) => {
      if (kept) sharedSpecs.clear();
      spares.dropBin(path);
    },
    found: () => warmed && setImmediate(warmSpares),
  });
  const startedAt = Date.now();
  metrics.watch({
    tasks: () => registry.counts,
    processPids: () => procs.pids(),
    sparesReady: () => spares.readyByTier(),
    circuits: () => breakers.snapshot(),
    ...(cluster ? { sharedQueue: () => cluster.waiting() } : {}),
  });
  const compare = new CompareJobs({
    registry,
    tierNames: Object.keys(config.tiers),
    stateDir: config.stateDir,
    log,
    admit: (principal) => spending.admit(principal),
  });
  let disposed: Promise<void> | undefined;
  // The guard's policy: an HTTP token whose daily budget is spent starts no claude until the next UTC midnight (checked
  // first, so a refused call does not use up the rate allowance), then the rate limits.
  const admission: ToolAdmission = {
    admit: async (tool, principal, rateKey) => {
      spending.admit(principal);
      await metrics.admitting(tool, () => rateLimiter.admit(rateKey));
    },
  };
  return {
    serverId,
    config,
    log,
    metrics,
    spending,
    rateLimiter,
    tasks: registry,
    registry,
    admission,
    compare,
    notifier,
    claudeBinary,
    killAllSync: () => procs.killAllSync(),
    tap:
      linkKey &&
      tapHandler({
        key: linkKey,
        record: (id) => registry.record(id),
        answer: (id, requestId, answer) => registry.answer(id, requestId, answer),
      }),
    quick: new QuickTier(quickDeps).answer,
    warmSpares,
    stats: async (viewer) => {
      const peakRunning = registry.counts.peak_running;
      const stats = await serverStats({
        metrics,
        startedAt,
        peakRunning,
        spares,
        cache: cache.stats,
        circuits: breakers.snapshot(),
      });
      // The caller's own tasks besides the server's totals.
      return viewer ? { ...stats, mine: await registry.countsOf(viewer) } : stats;
    },
    dispose(reason = 'server shutdown') {
      stopSharing();
      disposed ??= Promise.allSettled([compare.dispose(), registry.shutdown(reason), spares.dispose()]).then(
        () => undefined,
      );
      return disposed;
    },
  };
}

// Joins the cluster of config.redis; a Redis that is not there yet is waited for in the background.
async function openCluster(config: Config, serverId: string, log: Logger): Promise<Cluster> {
  const redis = config.redis!;
  const ownRecords = function* (): Iterable<TaskRecord> {
    const store = new TaskStore(config.stateDir);
    for (const id of store.listIds().slice(0, 1000)) {
      const rec = store.readRecord(id);
      if (rec) yield rec;
    }
  };
  // Loaded only for a cluster: a server without Redis never loads BullMQ or ioredis.
  const { Cluster } = await import('./tasks/redis/cluster.js');
  const cluster = await Cluster.open({
    url: redis.url,
    prefix: redis.prefix,
    eventCap: redis.eventCap,
    serverId,
    log,
    ownRecords,
    limits: config.limits,
  });
  log.info({ redis: cluster.url, prefix: redis.prefix }, 'cluster: tasks go through the shared queue');
  return cluster;
}

// The task backend of this server: the cluster's (Redis), or this machine's state dir.
async function openBackend(
  config: Config,
  p: { log: Logger; locks: RepoLocks; cluster?: Cluster; depth: number; guardDepth(): void },
): Promise<TaskBackend> {
  const local = { stateDir: config.stateDir, limits: config.limits, log: p.log, locks: p.locks };
  if (!p.cluster) return new LocalBackend(local);
  const { RedisBackend } = await import('./tasks/redis/redis-backend.js');
  const jobs = { maxDepth: config.maxDepth, allowedRoots: config.allowedRoots };
  return new RedisBackend({
    ...local,
    cluster: p.cluster,
    jobs,
    maxQueue: config.limits.maxQueue,
    depth: p.depth,
    guardDepth: p.guardDepth,
  });
}
