import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { SharedRecords } from '../../src/tasks/redis/shared-records.js';
import type { TaskRecord } from '../../src/tasks/types.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { taskRecord } from '../support/records.js';

let redis: TestRedis;
let conn: Redis;

beforeAll(async () => {
  redis = await startRedis();
  conn = redis.client();
});
afterAll(async () => {
  await redis?.close();
});

const record = (id: string, state: TaskRecord['state'], serverId = 'submitter'): TaskRecord =>
  taskRecord({ id, state, owner: { serverId, pid: 1 } });

describe('shared records (real Redis)', () => {
  it('of ten servers claiming one queued task at once, exactly one wins', async () => {
    const records = new SharedRecords(conn, 'claims', 100);
    await records.put(record('t_claim0001', 'queued'));
    // Ten servers: ten connections, their claims in flight at once.
    const servers = Array.from({ length: 10 }, () => new SharedRecords(redis.client(), 'claims', 100));
    const wins = await Promise.all(
      servers.map((srv, i) => srv.put(record('t_claim0001', 'running', `s${i}`), ['queued'])),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = `s${wins.indexOf(true)}`;
    expect((await records.read('t_claim0001'))?.owner.serverId).toBe(winner);
    expect(await records.claimedIds()).toEqual(['t_claim0001']);
  });

  it('a kill of a queued task and a claim never both win; "lost" never overwrites a final state', async () => {
    const records = new SharedRecords(conn, 'race', 100);
    await records.put(record('t_race00001', 'queued'));
    const other = new SharedRecords(redis.client(), 'race', 100);
    const [killed, claimed] = await Promise.all([
      records.put(record('t_race00001', 'killed'), ['queued']),
      other.put(record('t_race00001', 'running', 'w'), ['queued']),
    ]);
    expect(Number(killed) + Number(claimed)).toBe(1);
    await records.put(record('t_race00002', 'succeeded', 'w'));
    expect(await records.put(record('t_race00002', 'lost'), ['running', 'needs_input'])).toBe(false);
    expect((await records.read('t_race00002'))?.state).toBe('succeeded');
    // An owner's write is taken only while the task is still its own and unfinished.
    await records.put(record('t_race00003', 'running', 'w'));
    expect(await records.put(record('t_race00003', 'lost', 'w'), ['running', 'needs_input'])).toBe(true);
    expect(
      await records.put(record('t_race00003', 'succeeded', 'w'), ['none', 'queued', 'running', 'needs_input'], 'w'),
    ).toBe(false);
    expect((await records.read('t_race00003'))?.state).toBe('lost');
    expect(
      await records.put(record('t_race00004', 'running', 'w'), ['none', 'queued', 'running', 'needs_input'], 'w'),
    ).toBe(true);
  });

  it('keeps a capped stream of event lines, read from a sequence number or as a tail', async () => {
    const records = new SharedRecords(conn, 'events', 10);
    const appends: Array<Promise<void>> = [];
    for (let seq = 1; seq <= 2000; seq += 2) appends.push(records.appendEvent('t_events001', seq, `line ${seq}`));
    await Promise.all(appends);
    const tail = await records.readEvents('t_events001', { limit: 3 });
    expect(tail.map((e) => e.seq)).toEqual([1995, 1997, 1999]);
    const from = await records.readEvents('t_events001', { from: 1996, limit: 10 });
    expect(from.map((e) => e.text)).toEqual(['line 1997', 'line 1999']);
    expect(await records.readEvents('t_events001', { limit: 0 })).toEqual([]);
    expect(await records.readEvents('t_nothing01', { limit: 5 })).toEqual([]);
    // Capped (approximately, as Redis trims whole nodes): far fewer than the 1,000 lines written.
    expect(await conn.xlen('events:ev:t_events001')).toBeLessThan(300);
  });
});
