import { execa, type ResultPromise } from 'execa';
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
  /** Text written to stdin before it is closed (json mode); omit to keep stdin open (stream-json mode). */
  stdinText?: string;
}

export interface ExitInfo {
  exitCode: number | undefined;
  signal: string | undefined;
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

const live = new Set<number>();

// Last resort at process exit: SIGKILL every claude group we started and everything noted under it.
export function killAllClaudeSync(): number {
  let n = 0;
  for (const pid of live) {
    killTreeSync(pid);
    n++;
  }
  live.clear();
  return n;
}

// How many claude processes this server has running right now.
export function liveClaudeCount(): number {
  return live.size;
}

const STDERR_TAIL = 8 * 1024;

// Spawns claude detached (its own process group, so the group can be killed) with piped stdio, never inherited.
export function spawnClaude(options: SpawnOptions): ClaudeProcess {
  const child: ResultPromise = execa(options.bin, options.args, {
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
    // execa reports spawn errors on the promise; surface them as an immediate exit.
    const exited = child.then((r) => ({ exitCode: r.exitCode ?? 127, signal: r.signal ?? undefined })) as Promise<ExitInfo>;
    return { pid: -1, startTime: undefined, exited, hasExited: () => true, writeLine: () => false, closeStdin: () => {}, stderrTail: () => '' };
  }
  live.add(pid);
  const startTime = processStartTime(pid);
  let stderr = '';
  let done = false;
  const splitter = createLineSplitter({
    maxLineBytes: options.maxLineBytes,
    onLine: options.onLine,
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
      live.delete(pid);
      // Let stdout drain before reporting the exit, so the last lines are not lost.
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        splitter.flush();
        resolve({ exitCode: code ?? undefined, signal: signal ?? undefined });
      };
      if (child.stdout && !child.stdout.readableEnded) {
        // A grandchild that inherited stdout could hold it open: do not wait for it forever.
        const timer = setTimeout(finish, 500);
        child.stdout.once('end', () => {
          clearTimeout(timer);
          finish();
        });
      } else finish();
    });
  });
  void child.catch(() => {});
  if (options.stdinText !== undefined) child.stdin?.end(options.stdinText);
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
