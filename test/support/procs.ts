import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { isAlive, killRecorded, processStartTime } from '../../src/claude/terminate/index.js';

// Live processes whose argv is exactly `sleep <arg>`: the `bash -c` script that mentions the arg is not one of them.
export function sleepers(arg: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length === 2 && argv[0]!.endsWith('sleep') && argv[1] === arg && isAlive(Number(name)))
        out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

// Polls until fn() holds or the time is up; returns whether it held.
export async function until(fn: () => boolean, ms: number, everyMs = 20): Promise<boolean> {
  for (const end = Date.now() + ms; !fn(); await delay(everyMs)) if (Date.now() > end) return false;
  return true;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

// One child with piped stdio: its stdout lines as they come, its exit as a promise.
export interface Started {
  child: ChildProcess;
  pid: number;
  lines: string[];
  exited: Promise<ExitStatus>;
  hasExited(): boolean;
  line(match: (line: string) => boolean, ms?: number): Promise<string>;
  stderr(): string;
}

// Spawns like the engine does (detached: its own process group and session), stdout read line by line.
export function startProcess(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean } = {},
): Started {
  const child = spawn(file, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    detached: options.detached ?? true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  let err = '';
  let done = false;
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (buffered + d.toString('utf8')).split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  child.stdin!.on('error', () => {});
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal, at: Date.now() });
    }),
  );
  return {
    child,
    pid: child.pid ?? -1,
    lines,
    exited,
    hasExited: () => done,
    async line(match, ms = 20_000) {
      await until(() => lines.some(match) || done, ms);
      if (done) await until(() => lines.some(match), 200); // the last output may follow the exit event
      const hit = lines.find(match);
      if (hit === undefined)
        throw new Error(
          `no matching line (exited: ${done}); stdout: ${lines.join('\n').slice(-500)}; stderr: ${err.slice(-500)}`,
        );
      return hit;
    },
    stderr: () => err,
  };
}

// Remembers what a test started and SIGKILLs every leftover by pid (with its start time), so a failed test leaves
// nothing.
export function createReaper(): { track(s: Started): Started; watch(...sleepArgs: string[]): void; reap(): void } {
  const started: Started[] = [];
  const args: string[] = [];
  return {
    track(s) {
      started.push(s);
      return s;
    },
    watch: (...sleepArgs) => void args.push(...sleepArgs),
    reap() {
      for (const s of started.splice(0)) {
        if (s.hasExited() || s.pid <= 1) continue;
        try {
          process.kill(-s.pid, 'SIGKILL');
        } catch {
          killRecorded([{ pid: s.pid, startTime: processStartTime(s.pid) }], 'SIGKILL');
        }
      }
      for (const arg of args.splice(0))
        for (const pid of sleepers(arg)) killRecorded([{ pid, startTime: processStartTime(pid) }], 'SIGKILL');
    },
  };
}
