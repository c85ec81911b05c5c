import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RepoLocks } from '../../src/isolation/repo-locks.js';
import { createLogger } from '../../src/log.js';
import type { Admission, ResolvedRun, TaskBackend, TaskHost } from '../../src/tasks/backend.js';
import { newTaskId } from '../../src/tasks/ids.js';
import type { InputAnswer, InputRequest } from '../../src/tasks/input-requests.js';
import { LiveTask } from '../../src/tasks/live-task.js';
import { LocalBackend } from '../../src/tasks/local/local-backend.js';
import { Cluster } from '../../src/tasks/redis/cluster.js';
import { RedisBackend } from '../../src/tasks/redis/redis-backend.js';
import { isFinal, type EndInfo, type TaskRecord, type TaskState } from '../../src/tasks/types.js';
import { waitFor, waitForValue } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';

// One contract, two backends: what the task service relies on from any TaskBackend, checked against the local one
// (a state dir) and the Redis one (a real redis-server), races included. The host is a stand-in for the service:
// its "run" of a task is a LiveTask that ends when it is stopped or told to finish; the backend under test is real.

const log = createLogger('silent');
const limits = { pruneMaxAgeDays: 30, pruneMaxTasks: 1000, maxQueue: 100 };
const cwd = mkdtempSync(join(tmpdir(), 'ct-contract-cwd-'));

// The end state a stop reason gives a task (as the runner's verdict does).
const endState = (reason: EndInfo['reason']): TaskState =>
  reason === 'lost' ? 'lost' : reason === 'killed' ? 'killed' : 'failed';

class FakeHost implements TaskHost {
  readonly owner: TaskRecord['owner'];
  readonly tasks = new Map<string, LiveTask>();
  readonly launched: string[] = [];
  readonly kills: Array<{ id: string; by: string }> = [];
  readonly lostSeen: TaskRecord[] = [];
  backend!: TaskBackend;

  constructor(serverId = randomUUID()) {
    this.owner = { serverId, pid: process.pid, host: hostname() };
  }

  live = (id: string) => this.tasks.get(id);
  liveIds = () => [...this.tasks.keys()];
  closing = () => false;
  lost = (rec: TaskRecord) => void this.lostSeen.push(rec);

  async kill(id: string, by: string): Promise<void> {
    this.kills.push({ id, by });
    await this.tasks.get(id)?.stop({ reason: 'killed', by, message: `killed by ${by}` });
  }

  runHere(record: TaskRecord, _run: ResolvedRun, accepted: () => void): LiveTask {
    accepted();
    return this.launch(record, this.admission());
  }

  async admit(): Promise<Admission> {
    return this.admission();
  }

  private admission(): Admission {
    return { ticket: { report: () => {} }, hold: { settle: () => {} } } as unknown as Admission;
  }

  // The stand-in for a run: the task ends when it is stopped, with the stop's reason.
  launch(record: TaskRecord, _admission: Admission): LiveTask {
    const task = new LiveTask(record, 100, this.backend.eventSink(record.id));
    this.tasks.set(record.id, task);
    this.launched.push(record.id);
    // As the runner does once the task has its slot.
    task.update((r) => (r.state = 'running'));
    void this.backend.save(task, true);
    task.stopSignal.addEventListener('abort', () => void this.end(task, endState(task.stopped!.reason), task.stopped));
    return task;
  }

  async end(task: LiveTask, state: TaskState, end?: EndInfo): Promise<void> {
    if (isFinal(task.record.state)) return;
    task.update((r) => {
      r.state = state;
      r.endedAt = Date.now();
      if (end) r.end = end;
    });
    await this.backend.save(task, true);
    task.markDone();
  }
}

const newRecord = (owner: TaskRecord['owner'], state: TaskState = 'queued'): TaskRecord =>
  ({
    version: 1,
    id: newTaskId(),
    state,
    createdAt: Date.now(),
    updatedAt: Date.now(),
    request: { prompt: 'p', cwd, model: 'm', tier: 'comprehensive', timeoutS: 60, idleTimeoutS: 60 },
    owner,
    stats: { events: 0, turns: 0, toolCalls: 0, costUsd: 0, inputTokens: 0, outputTokens: 0, apiRetries: 0 },
    tools: [],
    lastText: '',
    textTail: '',
    permissionDenials: [],
  }) as TaskRecord;

// A new task's request as the service resolved it (the backends pass it on; the stand-in host does not run it).
const runOf = (record: TaskRecord): ResolvedRun => ({
  tierName: record.request.tier,
  tier: {} as ResolvedRun['tier'],
  cwd: record.request.cwd,
  model: record.request.model,
  content: record.request.prompt,
});

// A pid no process has now.
const deadPid = (): Promise<number> =>
  new Promise((resolve) => {
    const p = spawn('true');
    p.once('exit', () => resolve(p.pid!));
  });

interface Server {
  backend: TaskBackend;
  host: FakeHost;
}

// How each backend is set up: servers on one storage, and a task made to look as if its server died.
interface Kind {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  server(storage: string): Promise<Server>;
  /** A new storage (a state dir, a Redis prefix) shared by the servers of one test. */
  storage(): string;
  /** The task's record is made to look like one whose server is gone, to a reader on `server`. */
  orphan(server: Server, task: LiveTask): Promise<void>;
}

let redis: TestRedis | undefined;

const local: Kind = {
  name: 'local',
  setup: async () => {},
  teardown: async () => {},
  storage: () => mkdtempSync(join(tmpdir(), 'ct-contract-')),
  async server(stateDir) {
    const host = new FakeHost();
    const backend = new LocalBackend({ stateDir, limits, log, locks: new RepoLocks() });
    host.backend = backend;
    await backend.open(host);
    return { backend, host };
  },
  async orphan(server, task) {
    const pid = await deadPid();
    task.update((r) => {
      r.owner = { ...r.owner, pid, startTime: undefined };
    });
    await server.backend.save(task, true);
  },
};

const shared: Kind = {
  name: 'redis',
  setup: async () => {
    redis = await startRedis({ persist: false });
  },
  teardown: async () => {
    await redis?.close();
  },
  storage: () => `contract${randomUUID().slice(0, 8)}`,
  async server(prefix) {
    const host = new FakeHost();
    const stateDir = mkdtempSync(join(tmpdir(), 'ct-contract-'));
    const cluster = await Cluster.open({
      url: redis!.url,
      prefix,
      serverId: host.owner.serverId,
      eventCap: 100,
      log,
      ownRecords: () => [],
      limits,
    });
    const backend = new RedisBackend({
      stateDir,
      limits,
      log,
      locks: new RepoLocks(),
      cluster,
      jobs: { maxDepth: 2, allowedRoots: [cwd] },
      maxQueue: 100,
      depth: 0,
      guardDepth: () => {},
    });
    host.backend = backend;
    await backend.open(host);
    return { backend, host };
  },
  // Its own server no longer runs it, and its last write is older than a claim may take to start.
  async orphan(server, task) {
    task.update(() => {}, Date.now() - 10_000);
    await server.backend.save(task, true);
    // The owner write reaches Redis in the background.
    await new Promise((r) => setTimeout(r, 500));
    server.host.tasks.delete(task.id);
  },
};

describe.each([local, shared])('the task backend contract: $name', (kind) => {
  const servers: Server[] = [];
  const open = async (storage: string, n: number): Promise<Server[]> => {
    const made = await Promise.all(Array.from({ length: n }, () => kind.server(storage)));
    servers.push(...made);
    for (const s of made) s.backend.serve(2);
    return made;
  };
  const killEnd = (by: string): EndInfo & { by: string } => ({ reason: 'killed', by, message: `killed by ${by}` });
  // The server whose host runs the task, once one does.
  const runner = (all: Server[], id: string) => waitFor(() => all.find((s) => s.host.tasks.has(id)), 15_000);
  // What server s reads of task id once its state is `state` (undefined if it is not within ms).
  const readWhen = (s: Server, id: string, state: string, ms = 5000) =>
    waitFor(async () => {
      const r = await s.backend.read(id);
      return r?.state === state ? r : undefined;
    }, ms);
  const runs = (all: Server[], id: string) =>
    all.reduce((n, s) => n + s.host.launched.filter((x) => x === id).length, 0);

  beforeAll(() => kind.setup());
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.backend.stopTaking();
      for (const t of s.host.tasks.values()) await s.host.end(t, 'killed');
      await s.backend.close(500);
    }
  });
  afterAll(() => kind.teardown());

  it("a created task runs on exactly one server; every server reads its owner's writes and lists it", async () => {
    const all = await open(kind.storage(), 2);
    const [a, b] = all as [Server, Server];
    const rec = newRecord(a.host.owner);
    let accepted = 0;
    await a.backend.create(rec, runOf(rec), () => accepted++);
    expect(accepted).toBe(1);
    const on = (await runner(all, rec.id))!;
    expect(on).toBeDefined();
    // A second delivery (a job handed back, a second server) must never run it again.
    await new Promise((r) => setTimeout(r, 1500));
    expect(runs(all, rec.id)).toBe(1);
    const task = on.host.tasks.get(rec.id)!;
    const running = await waitForValue(async () => {
      const r = await b.backend.read(rec.id);
      return r?.state === 'running' ? r : undefined;
    });
    expect(running.owner.serverId).toBe(on.host.owner.serverId);
    task.update((r) => (r.stats.turns = 3));
    await on.host.end(task, 'succeeded');
    for (const s of all) {
      const seen = await readWhen(s, rec.id, 'succeeded');
      expect(seen?.stats.turns).toBe(3);
      const listed = await s.backend.list((r) => r.state === 'succeeded', 10);
      expect(listed.map((r) => r.id)).toContain(rec.id);
      expect(await s.backend.list((r) => r.state === 'running', 10)).not.toContainEqual(
        expect.objectContaining({ id: rec.id }),
      );
    }
  });

  it('a kill asked by another server stops the task on its owner', async () => {
    const all = await open(kind.storage(), 2);
    const [a] = all as [Server, Server];
    const rec = newRecord(a.host.owner);
    await a.backend.create(rec, runOf(rec), () => {});
    const on = (await runner(all, rec.id))!;
    const other = all.find((s) => s !== on)!;
    const seen = (await waitFor(() => other.backend.read(rec.id)))!;
    await other.backend.requestKill(seen, killEnd('the other server'), false);
    expect(await waitFor(() => on.host.kills.some((k) => k.id === rec.id), 10_000)).toBe(true);
    expect(await waitFor(async () => (await other.backend.read(rec.id))?.state === 'killed', 10_000)).toBe(true);
  });

  it("claim vs kill: a kill racing a task's start ends it killed, and a run that began is stopped", async () => {
    const storage = kind.storage();
    const all = await open(storage, 2);
    const [a, b] = all as [Server, Server];
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const rec = newRecord(a.host.owner);
      ids.push(rec.id);
      // The kill goes out while the create (and, with a queue, the claim) is under way.
      await Promise.all([
        a.backend.create(rec, runOf(rec), () => {}),
        b.backend.requestKill({ ...rec }, killEnd('racer'), false),
      ]);
    }
    for (const id of ids) {
      expect(await waitFor(async () => isFinal((await a.backend.read(id))?.state ?? 'queued'), 15_000)).toBe(true);
      expect((await a.backend.read(id))?.state).toBe('killed');
      // Ran at most once, and a run that started was stopped, never left going.
      expect(runs(all, id)).toBeLessThanOrEqual(1);
      for (const s of all) if (s.host.tasks.has(id)) expect(s.host.tasks.get(id)!.stopped?.reason).toBe('killed');
    }
  });

  it(
    "owner write vs lost: a task declared lost once (however many read it) is never revived by its owner's " + 'write',
    async () => {
      const all = await open(kind.storage(), 2);
      const [a] = all as [Server, Server];
      const rec = newRecord(a.host.owner);
      await a.backend.create(rec, runOf(rec), () => {});
      const on = (await runner(all, rec.id))!;
      const task = on.host.tasks.get(rec.id)!;
      await waitFor(async () => (await on.backend.read(rec.id))?.state === 'running');
      await kind.orphan(on, task);
      const reads = await Promise.all([on.backend.read(rec.id), on.backend.read(rec.id), on.backend.read(rec.id)]);
      expect(reads.map((r) => r?.state)).toEqual(['lost', 'lost', 'lost']);
      expect(on.host.lostSeen.map((r) => r.id)).toEqual([rec.id]);
      // The owner, unaware, writes again.
      task.update((r) => (r.stats.turns = 7));
      await on.backend.save(task, true);
      await new Promise((r) => setTimeout(r, 1000));
      for (const s of all) {
        const now = await s.backend.read(rec.id);
        expect(now?.state).toBe('lost');
        expect(now?.stats.turns).not.toBe(7);
      }
    },
  );

  it(
    'answer vs end: an answer from another server reaches the open question once; one racing the end is ' + 'harmless',
    async () => {
      const all = await open(kind.storage(), 2);
      const [a] = all as [Server, Server];
      const ask = async (task: LiveTask, requestId: string): Promise<InputAnswer> => {
        const request: InputRequest = {
          request_id: requestId,
          kind: 'permission',
          tool: 'Bash',
          input: { command: 'echo x' },
          asked_at: new Date().toISOString(),
          expires_at: new Date(Date.now() + 30_000).toISOString(),
        };
        const answer = task.inputs.ask(request, 30_000, task.stopSignal);
        task.update((r) => {
          r.state = 'needs_input';
          r.inputRequest = request;
        });
        await on(task).backend.save(task, true);
        return answer;
      };
      const on = (task: LiveTask) => all.find((s) => s.host.tasks.get(task.id) === task)!;
      // A task created on a, asked a question by the server that runs it, seen waiting by the other server.
      const askedTask = async (requestId: string) => {
        const rec = newRecord(a.host.owner);
        await a.backend.create(rec, runOf(rec), () => {});
        const task = (await runner(all, rec.id))!.host.tasks.get(rec.id)!;
        const asked = ask(task, requestId);
        const other = all.find((s) => s !== on(task))!;
        const seen = (await readWhen(other, rec.id, 'needs_input'))!;
        return { rec, task, asked, other, seen };
      };
      // One answer, from the other server.
      const { task, asked, other, seen } = await askedTask('r1');
      await other.backend.sendAnswer(seen, 'r1', { decision: 'allow', by: 'other server' });
      expect(await asked).toEqual({ decision: 'allow', by: 'other server' });
      await on(task).host.end(task, 'succeeded');
      // An answer racing the task's end: the question settles once, as answered or as denied by the end; nothing
      // throws.
      const { rec: rec2, task: task2, asked: asked2, other: other2, seen: seen2 } = await askedTask('r2');
      const owner2 = on(task2);
      await Promise.all([
        other2.backend.sendAnswer(seen2, 'r2', { decision: 'allow', by: 'late' }),
        task2.stop({ reason: 'killed', by: 'test', message: 'ended' }),
      ]);
      const got = await asked2;
      expect(got.decision === 'allow' || got.by === 'task end').toBe(true);
      await owner2.host.end(task2, 'killed');
      // After the end, an answer reaches nothing and is no error.
      await expect(other2.backend.sendAnswer(seen2, 'r2', { decision: 'deny', by: 'after' })).resolves.toBeUndefined();
      expect(task2.inputs.size).toBe(0);
      expect((await readWhen(other2, rec2.id, 'killed'))?.state).toBe('killed');
    },
  );
});
