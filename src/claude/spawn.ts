import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { containedCommand, type Containment } from './contain.js';
import { createLineSplitter } from './line-splitter.js';
import { killTreeSync, processStartTime } from './terminate/index.js';

export interface SpawnOptions {
  bin: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  onLine: (line: string) => void;
  onOversized?: (info: { bytes: number; preview: string }) => void;
  maxLineBytes: number;
}

export interface ExitInfo {
  exitCode: number | undefined;
  signal: string | undefined;
  /** The binary was not there when claude was started (removed while the server runs): its path. */
  binaryGone?: string;
}

// One running claude process: its own process group, stdout read line by line, stdin owned by us.
export interface ClaudeProcess {
  pid: number;
  startTime: string | undefined;
  exited: Promise<ExitInfo>;
  hasExited(): boolean;
  writeLine(value: unknown): boolean;
  closeStdin(): void;
  stderrTail(): string;
}

// The claude processes one server has running and how they are contained (probed once per server): counted for
// stats, killed at once when the server exits.
export class ProcessTable {
  private readonly live = new Set<number>();

  constructor(readonly containment: Containment = { kind: 'none', why: 'not probed' }) {}

  get size(): number {
    return this.live.size;
  }

  pids(): number[] {
    return [...this.live];
  }

  add(pid: number): void {
    this.live.add(pid);
  }

  delete(pid: number): void {
    this.live.delete(pid);
  }

  // Last resort at process exit: SIGKILL every claude group we started and everything noted under it.
  killAllSync(): number {
    let n = 0;
    for (const pid of this.live) {
      killTreeSync(pid);
      n++;
    }
    this.live.clear();
    return n;
  }
}

const STDERR_TAIL = 8 * 1024;

// The exit of claude itself when it ran contained: unshare re-raises a signal that killed claude on itself, except
// SIGKILL (its disposition cannot be reset), which util-linux 2.38 reports as exit 1 with this line instead.
function unwrapExit(
  containment: Containment,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
): ExitInfo {
  if (containment.kind === 'pidns' && code === 1 && /unshare: sigprocmask unblock failed/.test(stderr))
    return { exitCode: undefined, signal: 'SIGKILL' };
  return { exitCode: code ?? undefined, signal: signal ?? undefined };
}
const DRAIN_AFTER_EXIT_MS = 500;

// Whether claude's binary was gone when it was started, whatever ran it (the spawn's ENOENT, or unshare's "failed to
// execute", exit 127): an early exit (127, or no line from claude) and no file there. The binary is found once per
// server (claudeBinaryOf), so one removed since shows here first.
const goneBinary = (bin: string, exitCode: number | undefined, spoke: boolean): boolean =>
  (exitCode === 127 || !spoke) && !existsSync(bin);

const goneHint = (bin: string): string =>
  `claude not found: ${bin} is not there any more; reinstall it (or point CLAUDE_TIERS_CLAUDE_BIN or claudeBin at ` +
  `one): the next call looks for it again. `;

// The one place claude is spawned: detached (its own process group, so the group can be killed), contained in a PID
// namespace where the kernel allows it (nothing it starts outlives it), piped stdio, never inherited.
export function spawnClaude(options: SpawnOptions, table: ProcessTable): ClaudeProcess {
  const { file, args } = containedCommand(table.containment, options.bin, options.args);
  const child: ResultPromise = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    detached: true,
    cleanup: false,
    windowsHide: true,
  });
  const pid = child.pid;
  if (pid === undefined) {
    // execa reports spawn errors on the promise; surface them as an immediate exit with the reason on stderr.
    let why = '';
    const exited = child.then((r) => {
      const gone = goneBinary(options.bin, r.exitCode ?? 127, false);
      why = `${gone ? goneHint(options.bin) : ''}${String(r.message ?? '')}`.slice(0, 500);
      return { exitCode: r.exitCode ?? 127, signal: r.signal ?? undefined, ...(gone && { binaryGone: options.bin }) };
    }) as Promise<ExitInfo>;
    return {
      pid: -1,
      startTime: undefined,
      exited,
      hasExited: () => true,
      writeLine: () => false,
      closeStdin: () => {},
      stderrTail: () => why,
    };
  }
  table.add(pid);
  const startTime = processStartTime(pid);
  let stderr = '';
  let done = false;
  let spoke = false;
  const splitter = createLineSplitter({
    maxLineBytes: options.maxLineBytes,
    onLine: (line) => {
      spoke = true;
      options.onLine(line);
    },
    onOversized: (info) => options.onOversized?.({ bytes: info.bytes, preview: info.preview }),
  });
  child.stdout?.on('data', (chunk: Buffer) => splitter.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  child.stdin?.on('error', () => {
    /* EPIPE after claude exits: nothing to do */
  });
  const exited: Promise<ExitInfo> = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      table.delete(pid);
      // Let stdout drain before reporting the exit, so the last lines are not lost.
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        splitter.flush();
        const exit = unwrapExit(table.containment, code, signal, stderr);
        if (!goneBinary(options.bin, exit.exitCode, spoke)) return resolve(exit);
        stderr = goneHint(options.bin) + stderr;
        resolve({ ...exit, binaryGone: options.bin });
      };
      if (child.stdout && !child.stdout.readableEnded) {
        // A grandchild that inherited stdout could hold it open: do not wait for it forever.
        const timer = setTimeout(finish, DRAIN_AFTER_EXIT_MS);
        child.stdout.once('end', () => {
          clearTimeout(timer);
          finish();
        });
      } else finish();
    });
  });
  void child.catch(() => {});
  return {
    pid,
    startTime,
    exited,
    hasExited: () => done,
    writeLine(value: unknown): boolean {
      const stdin = child.stdin;
      if (!stdin || stdin.destroyed || stdin.writableEnded) return false;
      stdin.write(`${JSON.stringify(value)}\n`);
      return true;
    },
    closeStdin(): void {
      const stdin = child.stdin;
      if (stdin && !stdin.destroyed && !stdin.writableEnded) stdin.end();
    },
    stderrTail: () => stderr,
  };
}

// `claude --version`, for doctor: the only other way claude is ever started.
export function claudeVersionSync(bin: string, env: NodeJS.ProcessEnv, timeoutMs: number): string {
  return execFileSync(bin, ['--version'], { env: { ...env }, timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();
}
