import { spawnSync } from 'node:child_process';
import { findOnPath } from '../path-lookup.js';
import { readFileSync } from 'node:fs';

/*
 * Containment: every process a run starts dies with the run, whatever happens to the run or the server.
 *
 *   setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child --mount-proc -- claude ARGS
 *
 * - setpriv sets PR_SET_PDEATHSIG=SIGKILL on itself and execs unshare: the pid Node sees (child.pid) is unshare's.
 *   Spawned detached, it leads its own process group and session (pgid = sid = that pid).
 * - unshare --fork forks claude into a new PID namespace; claude is pid 1 there, its host pid is unshare's only child
 *   (innerPid), and it stays in unshare's process group and session, so group signals reach it.
 * - --kill-child gives claude PR_SET_PDEATHSIG=SIGKILL towards unshare; when claude (the namespace's init) dies, the
 *   kernel SIGKILLs everything else in the namespace: double forks and setsid included, since nothing leaves a PID ns.
 *   Chain on a server SIGKILL: server dies -> unshare SIGKILLed -> claude SIGKILLed -> namespace emptied.
 * - --mount-proc gives the run a /proc showing only its own processes (a private mount namespace).
 *
 * Surprises, each checked in test/claude/contain.test.ts and contain-claude.test.ts:
 * - unshare blocks SIGINT and SIGTERM while it waits: a signal sent to child.pid alone is never delivered.
 *   Signal the process group (-pid), or innerPid. SIGKILL to child.pid does take everything down.
 * - claude is pid 1 of its namespace: a signal it has no handler for is ignored, even SIGTERM from the server.
 *   claude 2.1.330 handles SIGTERM (exit 143) and SIGINT; a plain `sleep` wrapped the same way ignores them.
 * - Exit codes pass through. SIGKILL of claude alone ends the run, but util-linux 2.38 reports it as exit 1 with
 *   "unshare: sigprocmask unblock failed" on stderr, not as a signal: do not infer an OOM kill from the exit.
 * - By the time child.pid exits after claude ended on its own, the namespace is already empty (the kernel reaps it
 *   before init's exit is reported).
 * - pdeathsig fires when the *thread* that spawned exits: spawn from the main thread (libuv does), never from a worker.
 *   A server that exits normally also ends its runs. A server killed between fork and setpriv's prctl (a window of
 *   well under a millisecond) leaves that one run uncontained.
 * Not a security boundary: the run keeps the server's uid, filesystem and network.
 */

// What the engine learned once at start-up: a command prefix that contains a run, or why there is none.
export type Containment = { kind: 'pidns'; prefix: string[]; userNamespace: boolean } | { kind: 'none'; why: string };

// Where the probe looks; tests inject a PATH or binary names to see the fallback.
export interface ProbeOptions {
  env?: NodeJS.ProcessEnv;
  setpriv?: string;
  unshare?: string;
  platform?: NodeJS.Platform;
  timeoutMs?: number;
}

const PID_NS = ['--pid', '--fork', '--kill-child', '--mount-proc'];

// Runs `sh -c 'echo $$'` under the prefix: undefined when it printed 1 (pid 1 of a new namespace), else why not.
function refusal(prefix: string[], env: NodeJS.ProcessEnv, timeoutMs: number): string | undefined {
  try {
    const r = spawnSync(prefix[0]!, [...prefix.slice(1), '/bin/sh', '-c', 'echo $$'], {
      env,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.error) return `${prefix[0]} could not run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
    if (r.status === 0 && r.stdout.trim() === '1') return undefined;
    const said = (r.stderr || r.stdout).trim().split('\n').pop()?.slice(0, 200);
    return `${r.status === null ? `killed by ${r.signal}` : `exit ${r.status}`}${said ? `: ${said}` : ''}`;
  } catch (err) {
    return (err as Error).message;
  }
}

// Checks once whether runs can be put in a PID namespace; never throws, answers `none` with the reason instead.
export function probeContainment(options: ProbeOptions = {}): Containment {
  const platform = options.platform ?? process.platform;
  if (platform !== 'linux') return { kind: 'none', why: `PID namespaces need Linux (this is ${platform})` };
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 5000;
  const setpriv = findOnPath(options.setpriv ?? 'setpriv', env);
  if (!setpriv) return { kind: 'none', why: `${options.setpriv ?? 'setpriv'} not found on PATH (util-linux)` };
  const unshare = findOnPath(options.unshare ?? 'unshare', env);
  if (!unshare) return { kind: 'none', why: `${options.unshare ?? 'unshare'} not found on PATH (util-linux)` };
  const base = [setpriv, '--pdeathsig', 'KILL', '--', unshare];
  const plain = [...base, ...PID_NS, '--'];
  const plainRefusal = refusal(plain, env, timeoutMs);
  if (plainRefusal === undefined) return { kind: 'pidns', prefix: plain, userNamespace: false };
  // Without CAP_SYS_ADMIN (not root) a user namespace of one's own may still allow a PID namespace.
  const user = [...base, '--user', '--map-current-user', ...PID_NS, '--'];
  const userRefusal = refusal(user, env, timeoutMs);
  if (userRefusal === undefined) return { kind: 'pidns', prefix: user, userNamespace: true };
  return {
    kind: 'none',
    why: `unshare refused a PID namespace (${plainRefusal}; in a user namespace: ${userRefusal})`,
  };
}

// The command to spawn for `bin args`: wrapped in the containment prefix, or unchanged when there is none.
export function containedCommand(c: Containment, bin: string, args: string[]): { file: string; args: string[] } {
  if (c.kind === 'none') return { file: bin, args: [...args] };
  return { file: c.prefix[0]!, args: [...c.prefix.slice(1), bin, ...args] };
}

// One line for `doctor` and the start-up log.
export function describeContainment(c: Containment): string {
  if (c.kind === 'none') return `unavailable (${c.why}); process-group kill only`;
  return `pid namespace (setpriv + unshare${c.userNamespace ? ', in a user namespace' : ''})`;
}

// The host pid of the wrapped command (claude), for signals to it alone; the spawned pid itself without containment.
export function innerPid(c: Containment, spawnedPid: number): number | undefined {
  if (c.kind === 'none') return spawnedPid;
  try {
    const kids = readFileSync(`/proc/${spawnedPid}/task/${spawnedPid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return kids.length === 1 ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}
