import { parseEventLine } from './parse-line.js';
import type { ResultEvent } from './events.js';
import { spawnClaude, type ExitInfo } from './spawn.js';
import { terminateTree } from './terminate/index.js';

export interface JsonRunOptions {
  bin: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  prompt: string;
  timeoutMs: number;
  signal?: AbortSignal;
  killGraceMs: number;
  maxLineBytes: number;
}

// How a one-shot `claude -p --output-format json` run ended.
export type JsonRunOutcome =
  | { kind: 'result'; result: ResultEvent; exit: ExitInfo; durationMs: number; stderr: string }
  | { kind: 'timeout'; durationMs: number; stderr: string }
  | { kind: 'cancelled'; durationMs: number; stderr: string }
  | { kind: 'no-result'; exit: ExitInfo; durationMs: number; stderr: string; stdoutPreview: string };

// Runs claude once with the prompt on stdin (then closed), so a prompt can never be parsed as a flag.
export async function runClaudeJson(options: JsonRunOptions): Promise<JsonRunOutcome> {
  const started = Date.now();
  let result: ResultEvent | undefined;
  let preview = '';
  const proc = spawnClaude({
    bin: options.bin,
    args: options.args,
    cwd: options.cwd,
    env: options.env,
    maxLineBytes: options.maxLineBytes,
    stdinText: options.prompt,
    onLine(line) {
      const parsed = parseEventLine(line);
      if (parsed.kind === 'event' && parsed.event.type === 'result') result = parsed.event as ResultEvent;
      else if (preview.length < 2000) preview += `${line.slice(0, 500)}\n`;
    },
  });
  const stop = new AbortController();
  let reason: 'timeout' | 'cancelled' | undefined;
  const terminate = (why: 'timeout' | 'cancelled') => {
    if (reason || proc.hasExited()) return;
    reason = why;
    void terminateTree({
      pid: proc.pid,
      exited: proc.exited,
      interrupt: () => {
        try {
          process.kill(proc.pid, 'SIGINT');
        } catch {
          /* already gone */
        }
      },
      interruptWaitMs: 300,
      graceMs: options.killGraceMs,
    });
  };
  const timer = setTimeout(() => terminate('timeout'), options.timeoutMs);
  const onAbort = () => terminate('cancelled');
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true, signal: stop.signal });
  try {
    const exit = await proc.exited;
    const durationMs = Date.now() - started;
    const stderr = proc.stderrTail();
    if (reason === 'timeout') return { kind: 'timeout', durationMs, stderr };
    if (reason === 'cancelled') return { kind: 'cancelled', durationMs, stderr };
    if (result) return { kind: 'result', result, exit, durationMs, stderr };
    return { kind: 'no-result', exit, durationMs, stderr, stdoutPreview: preview };
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}
