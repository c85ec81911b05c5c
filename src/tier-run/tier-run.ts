import { rm } from 'node:fs/promises';
import { buildClaudeArgs, buildClaudeEnv, type RunRequest } from '../claude/args.js';
import type { ResultEvent } from '../claude/events.js';
import {
  ClaudeRun,
  type RunOutcome,
  type RunSpec,
  type StopReason,
  type StopTimings,
  type TurnLimits,
} from '../claude/run.js';
import { verdictOf, type Verdict } from '../guards/breaker.js';
import { hiddenNow, type SandboxScope } from '../isolation/sandbox-hidden.js';
import { serverCode } from '../isolation/server-code.js';
import type { Leases } from '../leases.js';
import type { RunDeps } from '../run-deps.js';
import type { SparePool } from '../spares/spare-pool.js';
import type { Limits, TierConfig } from '../config/schema.js';
import { planRun, planSandbox, planShared } from '../tiers.js';
import type { MadeSpec } from './spec-cache.js';
import type { ResolvedRun } from './resolve.js';

// What one run of a tier takes from the server, either tier: a claude run, and the warm spares that may serve it.
export interface TierRunDeps extends RunDeps {
  readonly spares: SparePool;
}

// What a run's spec is made of: the server's config, environment and depth, its binary and what runs must not read,
// the specs worked out already, and the spares spawned from shared files (retired when those were found changed).
export type SpecDeps = Pick<
  RunDeps,
  'config' | 'env' | 'depth' | 'claudeBinary' | 'configCandidates' | 'sharedSpecs'
> & {
  readonly spares: Pick<SparePool, 'retireNaming'>;
};

// The spec of one claude run of a tier: binary, argv (no prompt, no long text), environment, cwd.
export function runSpec(
  deps: Omit<SpecDeps, 'configCandidates' | 'sharedSpecs'>,
  tier: TierConfig,
  cwd: string,
  req: RunRequest,
): RunSpec {
  const bin = deps.claudeBinary().path;
  return {
    bin,
    args: buildClaudeArgs(tier, { readOnly: serverCode(bin), ...req }),
    cwd,
    env: buildClaudeEnv(tier, deps.env, deps.depth, deps.config.secretEnv),
    maxLineBytes: deps.config.limits.maxStdoutLineBytes,
  };
}

// How long a stop may take, from config; a shutdown uses its own shorter budget.
export function stopTimings(limits: Limits, shutdown = false): StopTimings {
  if (!shutdown) return { interruptWaitMs: limits.interruptWaitMs, killGraceMs: limits.killGraceMs };
  return { interruptWaitMs: Math.round(limits.shutdownMs / 5), killGraceMs: Math.round(limits.shutdownMs / 3) };
}

// What a run in `cwd` must not read when its caller names nothing else: the state dir (less cwd, where it lies in it)
// and the user's config, which holds the HTTP tokens. The same for every run from one cwd: warm spares share it.
export const serverScope = (
  deps: Pick<RunDeps, 'config' | 'configCandidates'>,
  cwd: string,
  hidden = hiddenNow(deps.configCandidates),
): SandboxScope => ({ stateDir: deps.config.stateDir, ownDir: cwd, hidden });

// The spec of a run with its tier's shared files (the kind a warm spare serves). It depends on the call only through
// its tier, cwd, model and flags; the rest is the server's (its state dir, which of the user's config paths exist,
// the binary, the tier's MCP config file), so it is worked out once for each (files planned and written, argv,
// environment) and made again when one of those changed (spec-cache.ts). Not kept for a modular tier: its appended
// text holds the CLAUDE.md files above the cwd as they are at each run.
export function sharedSpec(
  deps: SpecDeps,
  tierName: string,
  tier: TierConfig,
  cwd: string,
  model: string,
  flags: RunShape['flags'] = {},
): Promise<RunSpec> {
  // The MCP config's stamp is that of the text its files were planned from (one read for both); the user's config
  // paths that exist are hidden, and a kept spec is made again when one of them came or went. Files found changed
  // are written again, and the spares that may have read them meanwhile (any spec naming that folder) retired.
  const make = async (): Promise<MadeSpec> => {
    const hidden = hiddenNow(deps.configCandidates);
    const scope = serverScope(deps, cwd, hidden);
    const { read, files, rewritten, ...plan } = await planShared(tierName, tier, cwd, scope, deps.config.allowedRoots);
    if (rewritten) deps.spares.retireNaming(rewritten);
    const spec = { ...runSpec(deps, tier, cwd, { model, ...flags, ...plan }), files };
    const seen = { paths: deps.configCandidates, existing: hidden };
    return { spec, read, seen };
  };
  if (tier.contextMode === 'modular') return make().then((m) => m.spec);
  return deps.sharedSpecs.get(JSON.stringify([tierName, cwd, model, flagsKey(flags)]), make);
}

// The flags as a cache key: one spelling for one argv (an absent flag and a false or undefined one are the same run).
const flagsKey = (flags: object): Array<[string, unknown]> =>
  Object.entries(flags)
    .filter(([, v]) => v !== undefined && v !== false)
    .sort(([a], [b]) => (a < b ? -1 : 1));

// Equal keys mean a warm spare fits the request exactly (binary, argv, cwd).
export const spareKey = (spec: RunSpec): string => JSON.stringify([spec.bin, spec.args, spec.cwd]);

// How many spares a tier keeps per spec: between minSpares (default warmSpares) and maxSpares (default warmSpares).
export const spareBounds = (tier: TierConfig): { min: number; max: number } => ({
  min: tier.minSpares ?? tier.warmSpares,
  max: Math.max(tier.maxSpares ?? tier.warmSpares, tier.minSpares ?? tier.warmSpares),
});

// Where the two tiers' runs differ: where claude runs, whose files, which flags, and whether a spare may serve it.
export interface RunShape {
  /** Where claude runs: the request's cwd, or a task's worktree. */
  workdir: string;
  /** Files of this run's own; without them, the tier's shared files (the kind a warm spare serves; sharedSpec). */
  own?: OwnFiles;
  /** Flags beyond the model and the files. */
  flags?: Pick<RunRequest, 'maxTurns' | 'maxBudgetUsd' | 'resumeSessionId' | 'forkSession' | 'forwardPermissions'>;
}

// What makes a run's files its own, not a spare's: a folder for them (removed when the run ends), and what else the
// run has that a spare started by this server has not.
export interface OwnFiles {
  dir: string;
  /** The request's system prompt (appended). */
  systemPrompt?: string;
  /** What the run must not read (default: serverScope); a sandboxed run's settings go in dir. */
  scope?: SandboxScope;
  /** How deep in a chain of servers the run is (default: this server's depth). */
  depth?: number;
}

// The one turn of a run: its limits (in the words of its tier), the answer's schema, and a signal that stops it.
export interface Turn {
  kind: 'answer' | 'task';
  timeoutS: number;
  idleS: number;
  jsonSchema?: Record<string, unknown>;
  stopOn?: { signal: AbortSignal; reason: StopReason };
}

// The moments of a run only its caller knows about.
export interface RunHooks {
  /** A warm spare may serve the run (refill: another is started in its place). */
  spare?: { refill: boolean };
  /** Just before claude is taken or spawned; false: the run never starts (a task stopped meanwhile). */
  beforeStart?(): boolean;
  /** How the caller's finally closes the run (its lease). */
  close(run: ClaudeRun): unknown;
  /** Claude is there, the prompt not yet sent: a task attaches its listeners, its record and its permission hook. */
  started?(run: ClaudeRun): unknown;
}

// How a run ended: no run at all (beforeStart said no), or its one outcome and what it says about the upstream.
export type RunEnd = { run?: undefined } | { run: ClaudeRun; warm: boolean; outcome: RunOutcome; verdict: Verdict };

// One run of a resolved request, either tier: its files and spec, a warm spare or a cold claude, the prompt with its
// limits, the outcome, and the verdict for the breaker. What it holds are leases of the caller's, released in the
// caller's finally.
export async function runTier(
  deps: TierRunDeps,
  r: ResolvedRun,
  shape: RunShape,
  turn: Turn,
  hooks: RunHooks,
  leases: Leases,
): Promise<RunEnd> {
  const spec = await prepareRun(deps, r, shape, leases);
  if (hooks.beforeStart && !hooks.beforeStart()) return {};
  const { run, warm } = startRun(deps, r, spec, hooks.spare);
  leases.add('claude run', () => hooks.close(run));
  if (turn.stopOn) run.stopOn(turn.stopOn.signal, turn.stopOn.reason);
  await hooks.started?.(run);
  run.send(r.content, turnLimits(turn.kind, turn.timeoutS, turn.idleS), { jsonSchema: turn.jsonSchema });
  const outcome = await run.outcome;
  const gone = outcome.kind === 'exited' ? outcome.exit.binaryGone : undefined;
  // The binary was removed since it was found: the next call looks for it again (and the lookup's watchers drop
  // what was made from it: create-engine.ts).
  if (gone) deps.claudeBinary.forget(gone);
  return { run, warm, outcome, verdict: runVerdict(outcome) };
}

// A run's spec, with its files: files of its own (a lease, removed in the caller's finally), else the tier's shared
// files, which a warm spare of the same key has too.
async function prepareRun(deps: TierRunDeps, r: ResolvedRun, shape: RunShape, leases: Leases): Promise<RunSpec> {
  const { own, workdir } = shape;
  if (!own) return sharedSpec(deps, r.tierName, r.tier, workdir, r.model, shape.flags);
  leases.add('run files', () => rm(own.dir, { recursive: true, force: true }));
  const scope = own.scope ?? serverScope(deps, workdir);
  const { allowedRoots } = deps.config;
  const plan = await planRun(r.tierName, r.tier, workdir, scope, own.dir, own.systemPrompt, allowedRoots);
  const readOnly = serverCode(deps.claudeBinary().path);
  const sandbox = own.scope && r.tier.sandbox?.enabled ? await planSandbox(r.tier, own.scope, own.dir, readOnly) : {};
  const runDeps = own.depth === undefined ? deps : { ...deps, depth: own.depth };
  return runSpec(runDeps, r.tier, workdir, { model: r.model, ...shape.flags, ...plan, ...sandbox });
}

// A warm spare of the spec's key when one may serve it (refill: another is started in its place), else a cold claude.
function startRun(
  deps: TierRunDeps,
  r: ResolvedRun,
  spec: RunSpec,
  spare?: { refill: boolean },
): { run: ClaudeRun; warm: boolean } {
  const bounds = spareBounds(r.tier);
  const key = spareKey(spec);
  const wanted = spare?.refill ? { spec: { ...spec, key, tier: r.tierName }, bounds } : undefined;
  const taken =
    spare && bounds.max > 0 && deps.spares.enabled
      ? deps.metrics.spareTaken(r.tierName, deps.spares.take(key, wanted))
      : undefined;
  return { run: taken ?? new ClaudeRun(spec, deps.procs, stopTimings(deps.config.limits)), warm: !!taken };
}

// A turn's wall and idle limits, with the words each tier says when one trips (an answer has no partial output).
function turnLimits(kind: 'answer' | 'task', timeoutS: number, idleS: number): TurnLimits {
  const limits = { wallMs: timeoutS * 1000, idleMs: idleS * 1000 };
  const stalled = `no event from claude for ${idleS} s (idle timeout; the API may be stalled)`;
  if (kind === 'answer') {
    return {
      ...limits,
      wallStop: {
        reason: 'wall_timeout',
        message:
          `timed out after ${timeoutS} s (timeout_s); claude was stopped. Raise timeout_s, or use deep_task ` +
          `for long work.`,
      },
      idleStop: { reason: 'idle_timeout', message: `${stalled}; claude was stopped.` },
    };
  }
  return {
    ...limits,
    wallStop: {
      reason: 'wall_timeout',
      message: `stopped: ran longer than timeout_s=${timeoutS} s (wall timeout); partial output kept`,
    },
    idleStop: { reason: 'idle_timeout', message: `stopped: ${stalled}; partial output kept` },
  };
}

// The text of a result: its answer, else its errors, else its subtype.
export const resultText = (r: ResultEvent): string =>
  typeof r.result === 'string' ? r.result : Array.isArray(r.errors) ? r.errors.join('; ') : String(r.subtype);

// What a run says about the upstream, for its breaker ticket: only claude's result tells (a stop or a crash: nothing).
function runVerdict(outcome: RunOutcome | undefined): Verdict {
  if (outcome?.kind !== 'result') return { kind: 'neutral' };
  const r = outcome.result;
  return verdictOf({ isError: r.is_error, apiErrorStatus: r.api_error_status, text: resultText(r) });
}
