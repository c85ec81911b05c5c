import { parseEventLine } from './parse-line.js';
import type { ResultEvent } from './events.js';
import type { JsonRunOutcome } from './run-json.js';
import type { Spare } from '../spares/spare-pool.js';
import { terminateTree } from './terminate/index.js';

// Sends one prompt to a warm spare and returns as soon as its result arrives; the spare then exits (stdin closed).
export async function runOnSpare(spare: Spare, options: { prompt: string; timeoutMs: number; signal?: AbortSignal; killGraceMs: number }): Promise<JsonRunOutcome> {
  const started = Date.now();
  const { proc } = spare;
  let settle!: (r: ResultEvent | undefined) => void;
  const gotResult = new Promise<ResultEvent | undefined>((resolve) => (settle = resolve));
  const onLine = (line: string) => {
    const parsed = parseEventLine(line);
    if (parsed.kind === 'event' && parsed.event.type === 'result') {
      proc.closeStdin();
      settle(parsed.event as ResultEvent);
    }
  };
  spare.setOnLine(onLine);
  for (const line of spare.early.splice(0)) onLine(line);
  let reason: 'timeout' | 'cancelled' | undefined;
  const stop = (why: 'timeout' | 'cancelled') => {
    if (reason || proc.hasExited()) return;
    reason = why;
    settle(undefined);
    void terminateTree({
      pid: proc.pid,
      exited: proc.exited,
      interrupt: () => void proc.writeLine({ type: 'control_request', request_id: 'cancel', request: { subtype: 'interrupt' } }),
      closeStdin: () => proc.closeStdin(),
      interruptWaitMs: 300,
      graceMs: options.killGraceMs,
    });
  };
  const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
  const onAbort = () => stop('cancelled');
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  proc.writeLine({ type: 'user', message: { role: 'user', content: options.prompt }, parent_tool_use_id: null, session_id: '' });
  try {
    const result = await Promise.race([gotResult, proc.exited.then(() => undefined)]);
    const durationMs = Date.now() - started;
    const stderr = proc.stderrTail();
    if (reason === 'timeout') return { kind: 'timeout', durationMs, stderr };
    if (reason === 'cancelled') return { kind: 'cancelled', durationMs, stderr };
    if (result) return { kind: 'result', result, exit: { exitCode: undefined, signal: undefined }, durationMs, stderr };
    const exit = await proc.exited;
    return { kind: 'no-result', exit, durationMs, stderr, stdoutPreview: '' };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
