import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isAlive,
  killGroupIfLeaderMatches,
  killGroups,
  killRecorded,
  killTreeSync,
  listDescendants,
  ownProcessGroup,
  parseProcStat,
  processStartTime,
  readProcStat,
  snapshotTree,
  terminateTree,
} from '../../src/claude/terminate/index.js';

const hasProc = readProcStat(process.pid) !== undefined;
let counter = 0;

// A tag only digits can carry through `sleep`: `sleep 1000.<tag>` is a valid duration and unique in /proc cmdlines.
function newTag(): string {
  counter++;
  return `${process.pid}${String(counter).padStart(4, '0')}${Math.floor(Math.random() * 1e6)}`;
}

// Every pid (not ours) whose command line mentions the tag.
function pidsWithTag(tag: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(tag) && isAlive(Number(name))) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

const spawned: ChildProcess[] = [];
const tags: string[] = [];

// Kills anything a failed test left behind, by pid.
afterEach(() => {
  for (const tag of tags.splice(0))
    for (const pid of pidsWithTag(tag)) killRecorded([{ pid, startTime: processStartTime(pid) }], 'SIGKILL');
  for (const child of spawned.splice(0)) if (child.pid && child.exitCode === null) killTreeSync(child.pid);
});

interface FakeClaude {
  child: ChildProcess;
  pid: number;
  tag: string;
  exited: Promise<unknown>;
}

// A shell tree shaped like claude running Bash tools: children in its group, others in new sessions, some ignoring
// SIGTERM.
async function startFakeClaude(opts: { parentIgnoresTerm?: boolean; exitOnInt?: boolean } = {}): Promise<FakeClaude> {
  const tag = newTag();
  tags.push(tag);
  const s = `1000.${tag}`;
  const script = [
    opts.parentIgnoresTerm ? `trap '' TERM` : '',
    opts.exitOnInt ? `trap 'exit 0' INT` : '',
    `sleep ${s} &`, // same group
    `setsid sleep ${s} &`, // new session, like the Bash tool
    `sh -c 'trap "" TERM; sleep ${s}' &`, // same group, ignores TERM
    `setsid sh -c 'trap "" TERM; sleep ${s}' &`, // new session, ignores TERM
    `setsid sh -c 'sleep ${s} & wait' &`, // new session with its own child
    `while :; do wait; done`,
  ].join('\n');
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  spawned.push(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const pid = child.pid!;
  // Wait until all five sleeps run.
  let sleeps = 0;
  for (let i = 0; i < 300 && sleeps < 5; i++) {
    await delay(10);
    sleeps = pidsWithTag(tag).filter((p) => readProcStat(p)?.comm === 'sleep').length;
  }
  expect(sleeps).toBe(5);
  return { child, pid, tag, exited };
}

describe.skipIf(!hasProc)('proc', () => {
  it('parses comm fields holding spaces and parentheses', () => {
    const rest = 'S 10 20 30 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654321 1000 200';
    expect(parseProcStat(`42 (we ird) (x) ) ${rest}`)).toMatchObject({
      pid: 42,
      comm: 'we ird) (x) ',
      state: 'S',
      ppid: 10,
      pgid: 20,
      sid: 30,
      startTime: '987654321',
    });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('reads live processes and nothing for missing ones', () => {
    const me = readProcStat(process.pid)!;
    expect(me.pid).toBe(process.pid);
    expect(me.ppid).toBe(process.ppid);
    expect(processStartTime(process.pid)).toBe(me.startTime);
    expect(isAlive(process.pid)).toBe(true);
    expect(readProcStat(-1)).toBeUndefined();
    expect(readProcStat(4_194_304 + 1)).toBeUndefined();
    expect(isAlive(4_194_304 + 1)).toBe(false);
  });
});

describe.skipIf(!hasProc)('descendants', () => {
  it('finds the whole tree, across sessions, by children files and by scan alike', async () => {
    const fake = await startFakeClaude();
    const tree = snapshotTree(fake.pid);
    const tagged = pidsWithTag(fake.tag).sort((a, b) => a - b);
    expect(tree.root?.pid).toBe(fake.pid);
    expect(tree.procs.map((p) => p.pid).sort((a, b) => a - b)).toEqual(expect.arrayContaining(tagged));
    const groups = tree.groups.map((g) => g.pgid);
    expect(groups).toContain(fake.pid);
    expect(groups.length).toBeGreaterThanOrEqual(4); // claude's + three setsid sessions
    expect(groups).not.toContain(ownProcessGroup());
    const byScan = listDescendants(fake.pid, { scan: true })
      .map((p) => p.pid)
      .sort((a, b) => a - b);
    expect(byScan).toEqual(
      listDescendants(fake.pid)
        .map((p) => p.pid)
        .sort((a, b) => a - b),
    );
    killTreeSync(fake.pid);
  });
});

describe.skipIf(!hasProc)('kill-groups', () => {
  it('never signals a pid whose start time does not match the recorded one', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    spawned.push(child);
    const pid = child.pid!;
    await delay(20);
    const real = processStartTime(pid)!;
    expect(killRecorded([{ pid, startTime: '1' }, { pid }], 'SIGKILL')).toBe(0);
    expect(killGroupIfLeaderMatches({ pgid: pid, leaderStartTime: '1' }, 'SIGKILL')).toBe(false);
    await delay(50);
    expect(isAlive(pid)).toBe(true);
    expect(killRecorded([{ pid, startTime: real }], 'SIGKILL')).toBe(1);
    await new Promise((r) => child.once('exit', r));
    expect(isAlive(pid)).toBe(false);
  });

  it('never signals our own group, pid 1 or dead pids, and never throws', () => {
    expect(killGroups([ownProcessGroup() ?? process.pid, 0, 1, process.pid], 'SIGCONT')).toBe(0);
    expect(killRecorded([{ pid: 1, startTime: processStartTime(1) }], 'SIGCONT')).toBe(0);
    expect(killRecorded([{ pid: 4_194_305, startTime: '5' }], 'SIGKILL')).toBe(0);
    expect(killGroups([4_194_305], 'SIGKILL')).toBe(0);
  });
});

describe.skipIf(!hasProc)('terminateTree', () => {
  it('(control) a plain kill of the group leaves the new sessions running, reparented away', async () => {
    const fake = await startFakeClaude();
    const before = snapshotTree(fake.pid);
    process.kill(-fake.pid, 'SIGKILL');
    await fake.exited;
    await delay(50);
    const left = pidsWithTag(fake.tag);
    expect(left.length).toBeGreaterThanOrEqual(3);
    for (const pid of left) expect(readProcStat(pid)?.ppid).not.toBe(fake.pid);
    expect(killRecorded(before.procs, 'SIGKILL')).toBeGreaterThanOrEqual(3);
  });

  it('leaves nothing behind, 10 times in a row', async () => {
    for (let i = 0; i < 10; i++) {
      const fake = await startFakeClaude();
      expect(pidsWithTag(fake.tag).length).toBeGreaterThanOrEqual(5);
      const report = await terminateTree({
        pid: fake.pid,
        exited: fake.exited,
        closeStdin: () => fake.child.stdin?.end(),
        graceMs: 500,
      });
      expect(report.survivors).toEqual([]);
      expect(report.groups).toContain(fake.pid);
      expect(report.snapshot.length).toBeGreaterThanOrEqual(9);
      expect(pidsWithTag(fake.tag)).toEqual([]);
    }
  });

  it('waits out a parent that ignores SIGTERM, then kills everything', async () => {
    const fake = await startFakeClaude({ parentIgnoresTerm: true });
    const report = await terminateTree({ pid: fake.pid, exited: fake.exited, graceMs: 300 });
    expect(report.durationMs).toBeGreaterThanOrEqual(300);
    expect(report.steps.join('\n')).not.toContain('exited after SIGTERM');
    expect(report.survivors).toEqual([]);
    expect(pidsWithTag(fake.tag)).toEqual([]);
  });

  it('stops at the interrupt when the parent exits on it, and still kills its orphans', async () => {
    const fake = await startFakeClaude({ exitOnInt: true });
    const report = await terminateTree({
      pid: fake.pid,
      exited: fake.exited,
      interrupt: () => void process.kill(fake.pid, 'SIGINT'),
      interruptWaitMs: 30_000,
      graceMs: 30_000,
    });
    expect(report.steps.join('\n')).toContain('exited after interrupt');
    expect(report.steps.join('\n')).not.toContain('SIGTERM');
    // It did not wait out the interrupt wait (a bound that holds on a busy machine).
    expect(report.durationMs).toBeLessThan(30_000);
    expect(report.survivors).toEqual([]);
    expect(pidsWithTag(fake.tag)).toEqual([]);
  });

  it('survives concurrent and repeated calls on the same pid, and an interrupt that throws', async () => {
    const a = await startFakeClaude();
    const b = await startFakeClaude();
    const opts = (f: FakeClaude) => ({
      pid: f.pid,
      exited: f.exited,
      interrupt: () => {
        throw new Error('stdin gone');
      },
      interruptWaitMs: 100,
      graceMs: 300,
    });
    const reports = await Promise.all([terminateTree(opts(a)), terminateTree(opts(a)), terminateTree(opts(b))]);
    for (const r of reports) expect(r.survivors).toEqual([]);
    expect(reports[0]!.steps.join('\n')).toContain('interrupt failed: stdin gone');
    const again = await terminateTree(opts(a));
    expect(again.survivors).toEqual([]);
    expect(pidsWithTag(a.tag)).toEqual([]);
    expect(pidsWithTag(b.tag)).toEqual([]);
  });

  it('skips the waits once its abort signal fires', async () => {
    const fake = await startFakeClaude({ parentIgnoresTerm: true });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const report = await terminateTree({
      pid: fake.pid,
      exited: fake.exited,
      interrupt: () => {},
      interruptWaitMs: 30_000,
      graceMs: 30_000,
      signal: ac.signal,
    });
    // Neither wait was waited out (a bound that holds on a busy machine).
    expect(report.durationMs).toBeLessThan(30_000);
    expect(report.survivors).toEqual([]);
    expect(pidsWithTag(fake.tag)).toEqual([]);
  });

  it('killTreeSync kills the whole tree at once', async () => {
    const fake = await startFakeClaude({ parentIgnoresTerm: true });
    expect(killTreeSync(fake.pid)).toBeGreaterThan(0);
    await fake.exited;
    for (let i = 0; i < 50 && pidsWithTag(fake.tag).length; i++) await delay(20);
    expect(pidsWithTag(fake.tag)).toEqual([]);
  });
});
