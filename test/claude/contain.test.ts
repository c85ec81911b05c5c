import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  containedCommand,
  describeContainment,
  innerPid,
  probeContainment,
  type Containment,
} from '../../src/claude/contain.js';
import { listDescendants, readProcStat } from '../../src/claude/terminate/index.js';
import { ROOT, uniqueSleep } from '../support/harness.js';
import { createReaper, sleepers, startProcess, until, type Started } from '../support/procs.js';

const containment = probeContainment();
const linux = process.platform === 'linux';
const root = process.getuid?.() === 0;
const PARENT = join(ROOT, 'test', 'claude', 'fixtures', 'contained-parent.mjs');
const MODULE = pathToFileURL(join(ROOT, 'dist', 'src', 'claude', 'contain.js')).href;
const reaper = createReaper();
afterEach(() => reaper.reap());

// The double fork of issue 11: one sleep through `( … &)`, one through `setsid -f`, then a foreground sleep.
function escapeScript(): { script: string; args: string[] } {
  const args = [uniqueSleep(777), uniqueSleep(777), uniqueSleep(30)];
  reaper.watch(...args);
  return { script: `(setsid sleep ${args[0]} &); setsid -f sleep ${args[1]}; echo x; sleep ${args[2]}; true`, args };
}

function start(c: Containment, bin: string, args: string[]): Started {
  const cmd = containedCommand(c, bin, args);
  return reaper.track(startProcess(cmd.file, cmd.args));
}

const nsPids = (pid: number) =>
  /NSpid:\s*([\d\s]+)/
    .exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]!
    .trim()
    .split(/\s+/)
    .map(Number);

describe.skipIf(!linux)('probeContainment', () => {
  it('finds a PID namespace here (root), and containedCommand puts the prefix before the command', () => {
    expect(containment).toMatchObject({ kind: 'pidns', userNamespace: !root }); // CI and this machine run as root
    if (containment.kind !== 'pidns') return;
    expect(containment.prefix[0]).toMatch(/\/setpriv$/);
    expect(containment.prefix).toEqual(
      expect.arrayContaining(['--pdeathsig', 'KILL', '--pid', '--fork', '--kill-child', '--mount-proc']),
    );
    expect(containedCommand(containment, '/x/claude', ['-p', '--'])).toEqual({
      file: containment.prefix[0],
      args: [...containment.prefix.slice(1), '/x/claude', '-p', '--'],
    });
    expect(containedCommand({ kind: 'none', why: 'w' }, '/x/claude', ['-p'])).toEqual({
      file: '/x/claude',
      args: ['-p'],
    });
    if (root) expect(describeContainment(containment)).toBe('pid namespace (setpriv + unshare)');
  });

  it('falls back to none, with the reason, when a tool is missing, refuses or the OS is not Linux', () => {
    const noPath = probeContainment({ env: { PATH: '/nonexistent' } });
    expect(noPath).toEqual({ kind: 'none', why: 'setpriv not found on PATH (util-linux)' });
    expect(describeContainment(noPath)).toBe(
      'unavailable (setpriv not found on PATH (util-linux)); process-group kill only',
    );
    expect(probeContainment({ setpriv: 'no-such-setpriv-4711' })).toMatchObject({
      kind: 'none',
      why: expect.stringContaining('no-such-setpriv-4711 not found'),
    });
    expect(probeContainment({ unshare: '/nonexistent/unshare' })).toMatchObject({
      kind: 'none',
      why: expect.stringContaining('/nonexistent/unshare not found'),
    });
    // An unshare that "runs" but makes no namespace (exit 1) is refused, not trusted.
    expect(probeContainment({ unshare: '/bin/false' })).toMatchObject({
      kind: 'none',
      why: expect.stringMatching(/^unshare refused a PID namespace \(exit 1/),
    });
    expect(probeContainment({ platform: 'darwin' })).toMatchObject({
      kind: 'none',
      why: expect.stringContaining('darwin'),
    });
  });

  it.skipIf(!root)('uses a user namespace of its own when not root (run as nobody)', async () => {
    const code =
      `const m = await import(${JSON.stringify(MODULE)}); const c = m.probeContainment(); const w = ` +
      `m.containedCommand(c, '/bin/sh', ['-c', 'echo $$']);
      const r = (await import('node:child_process')).spawnSync(w.file, w.args, { encoding: 'utf8' }); ` +
      `console.log(JSON.stringify({ c, pid: r.stdout.trim() }));`;
    const p = reaper.track(
      startProcess('setpriv', [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--',
        process.execPath,
        '--input-type=module',
        '-e',
        code,
      ]),
    );
    const out = JSON.parse(await p.line((l) => l.startsWith('{'))) as { c: Containment; pid: string };
    expect(out.c).toMatchObject({ kind: 'pidns', userNamespace: true });
    expect(out.pid).toBe('1');
  });
});

describe.skipIf(containment.kind !== 'pidns')('the wrapped process tree', () => {
  it(
    "Node sees unshare (setpriv exec'd it), leading its group and session; the command is its only child, pid " +
      '1 inside, same group',
    async () => {
      const { script, args } = escapeScript();
      const run = start(containment, 'bash', ['-c', script]);
      await run.line((l) => l === 'x');
      expect(await until(() => sleepers(args[0]!).length + sleepers(args[1]!).length === 2, 20_000)).toBe(true);
      const outer = readProcStat(run.pid)!;
      expect(outer.comm).toBe('unshare');
      expect([outer.pgid, outer.sid]).toEqual([run.pid, run.pid]);
      const inner = readProcStat(innerPid(containment, run.pid)!)!;
      expect(inner.comm).toBe('bash');
      expect([inner.ppid, inner.pgid, inner.sid]).toEqual([run.pid, run.pid, run.pid]);
      expect(nsPids(inner.pid)).toEqual([inner.pid, 1]);
      // The double-forked sleeps are re-parented to the namespace's init (bash), not to the host's: still our
      // descendants.
      const escaped = [...sleepers(args[0]!), ...sleepers(args[1]!)].map((pid) => readProcStat(pid)!);
      for (const s of escaped) expect([s.ppid, s.sid === s.pid]).toEqual([inner.pid, true]);
      expect(listDescendants(run.pid).map((p) => p.pid)).toEqual(expect.arrayContaining(escaped.map((s) => s.pid)));
      expect(innerPid({ kind: 'none', why: '' }, run.pid)).toBe(run.pid);
    },
  );

  it('(c) SIGKILL of the spawned pid alone takes the command and its double forks down', async () => {
    const { script, args } = escapeScript();
    const run = start(containment, 'bash', ['-c', script]);
    await run.line((l) => l === 'x');
    expect(await until(() => args.every((a) => sleepers(a).length === 1), 20_000)).toBe(true);
    process.kill(run.pid, 'SIGKILL');
    expect(await until(() => args.every((a) => sleepers(a).length === 0), 20_000)).toBe(true);
  });

  it(
    'exit codes pass through, and when the command ends on its own its double forks are gone by the exit ' + 'event',
    async () => {
      expect(await start(containment, 'sh', ['-c', 'exit 3']).exited).toMatchObject({ code: 3, signal: null });
      const [a, b] = [uniqueSleep(777), uniqueSleep(777)];
      reaper.watch(a, b);
      const run = start(containment, 'bash', [
        '-c',
        `(setsid sleep ${a} &); setsid -f sleep ${b}; until [ "$(pgrep -xc sleep)" = 2 ]; do :; done; exit 5`,
      ]);
      expect(await run.exited).toMatchObject({ code: 5, signal: null });
      expect([...sleepers(a), ...sleepers(b)]).toEqual([]); // checked at once: no grace period
    },
  );

  it(
    'the command is pid 1: a signal it has no handler for (sleep and SIGTERM) is ignored, even sent to the ' +
      'group; SIGKILL is not',
    async () => {
      const arg = uniqueSleep(777);
      reaper.watch(arg);
      const run = start(containment, 'sleep', [arg]);
      expect(await until(() => sleepers(arg).length === 1, 20_000)).toBe(true);
      process.kill(-run.pid, 'SIGTERM');
      process.kill(-run.pid, 'SIGINT');
      await new Promise((r) => setTimeout(r, 500));
      expect([run.hasExited(), sleepers(arg).length]).toEqual([false, 1]);
      process.kill(-run.pid, 'SIGKILL');
      expect(await run.exited).toMatchObject({ signal: 'SIGKILL' });
      // The wrapper's exit can be seen a moment before the kernel has reaped the namespace's pid 1.
      expect(await until(() => sleepers(arg).length === 0, 20_000)).toBe(true);
    },
  );

  it('SIGKILL of the command alone ends the run too (util-linux reports it as exit 1, not as a signal)', async () => {
    const { script, args } = escapeScript();
    const run = start(containment, 'bash', ['-c', script]);
    await run.line((l) => l === 'x');
    process.kill(innerPid(containment, run.pid)!, 'SIGKILL');
    const exit = await run.exited;
    expect(exit.code === 1 || exit.signal === 'SIGKILL').toBe(true);
    expect(args.flatMap(sleepers)).toEqual([]);
  });

  it('pdeathsig follows the spawning thread: a run spawned from a worker dies when the worker ends', async () => {
    const arg = uniqueSleep(777);
    reaper.watch(arg);
    const cmd = containedCommand(containment, 'sleep', [arg]);
    const code =
      `const { spawn } = require('node:child_process'); const { parentPort, workerData: w } = ` +
      `require('node:worker_threads');
      spawn(w.file, w.args, { detached: true, stdio: 'ignore' }); parentPort.postMessage('spawned'); ` +
      `setInterval(() => {}, 60_000);`;
    const worker = new Worker(code, { eval: true, workerData: cmd });
    await new Promise((r) => worker.once('message', r));
    expect(await until(() => sleepers(arg).length === 1, 20_000)).toBe(true);
    await worker.terminate();
    expect(await until(() => sleepers(arg).length === 0, 20_000)).toBe(true);
  });
});

// (a) and (b): a Node process stands in for the server; it is SIGKILLed while its run has double-forked.
describe.skipIf(!linux)('a SIGKILLed server', () => {
  async function killParent(
    mode: 'contained' | 'plain',
    asNobody = false,
  ): Promise<{ args: string[]; survivors: () => number[]; kind: string }> {
    expect(existsSync(new URL(MODULE)), 'the parent imports dist/: npm run build first').toBe(true);
    const { script, args } = escapeScript();
    const node = [process.execPath, PARENT, MODULE, mode, 'bash', '-c', script];
    const parent = reaper.track(
      asNobody
        ? startProcess('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...node])
        : startProcess(node[0]!, node.slice(1)),
    );
    const info = JSON.parse(await parent.line((l) => l.startsWith('{'))) as { pid?: number; containment: Containment };
    if (info.pid) expect(await until(() => args.every((a) => sleepers(a).length === 1), 20_000)).toBe(true);
    process.kill(parent.pid, 'SIGKILL');
    await parent.exited;
    return { args, survivors: () => args.flatMap(sleepers), kind: info.containment.kind };
  }

  it('(a) contained: nothing the run started remains', async () => {
    const r = await killParent('contained');
    expect(r.kind).toBe('pidns');
    expect(await until(() => r.survivors().length === 0, 20_000)).toBe(true);
  });

  it('(b) control, a plain process group: the double-forked sleeps survive the server', async () => {
    const r = await killParent('plain');
    await new Promise((res) => setTimeout(res, 2000));
    expect(r.args.slice(0, 2).map((a) => sleepers(a).length)).toEqual([1, 1]);
  });

  it.skipIf(!root)('(a) as a non-root user, contained through a user namespace', async (ctx) => {
    const r = await killParent('contained', true);
    if (r.kind !== 'pidns') ctx.skip(); // unprivileged user namespaces are off on this kernel
    expect(await until(() => r.survivors().length === 0, 20_000)).toBe(true);
  });
});
