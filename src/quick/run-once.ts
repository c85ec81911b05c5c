import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClaudeRun, type RunOutcome } from '../claude/run.js';
import { resolveCwd } from '../cwd.js';
import { ToolError } from '../errors.js';
import { verdictOf, type Verdict } from '../guards/breaker.js';
import { imageBlocks } from '../images.js';
import { Leases } from '../leases.js';
import { runSpec, stopTimings } from '../run-deps.js';
import { getTier, planRun } from '../tiers.js';
import { resultError, resultText, toAnswer, type QuickAnswer, type QuickRequest } from './answer.js';
import { planShared, spareBounds, spareKey, type QuickDeps } from './spares.js';
import { quickFinished } from '../metrics/quick-outcome.js';
import { LOCAL_PRINCIPAL } from '../tasks/types.js';
import type { BudgetHold } from '../cost/spending.js';

const CLOSED = { reason: 'closed', message: 'the answer was delivered' };
const CANCELLED = { reason: 'cancelled', message: 'cancelled by the client; claude was stopped.' };

// One synchronous run of a tier: a warm spare when one fits, else a cold claude; every lease released in one finally.
export async function runOnce(
  deps: QuickDeps,
  tierName: string,
  req: QuickRequest,
  signal: AbortSignal,
): Promise<QuickAnswer> {
  const tier = getTier(deps.config, tierName);
  if (tier.sandbox?.enabled || tier.isolation === 'worktree')
    throw new ToolError(`tier: ${tierName} runs sandboxed or in a worktree; use deep_task for it`);
  const cwd = resolveCwd(req.cwd, deps.config.allowedRoots);
  const model = req.model ?? tier.model;
  const content = req.images
    ? [...(await imageBlocks(req.images, deps.config.allowedRoots, cwd)), { type: 'text', text: req.prompt }]
    : req.prompt;
  const started = Date.now();
  const leases = new Leases((name, err) =>
    deps.log.warn({ lease: name, err: (err as Error)?.message }, 'release failed'),
  );
  let verdict: Verdict = { kind: 'neutral' };
  let outcome: RunOutcome | undefined;
  let warm = false;
  let answered = false;
  let hold: BudgetHold | undefined;
  try {
    // Its principal's budget holds back this call's estimate until its real cost is counted (in the finally).
    const call = { tier: tierName, model, promptChars: req.prompt.length, maxBudgetUsd: req.maxBudgetUsd };
    hold = deps.spending.reserve(req.principal ?? LOCAL_PRINCIPAL, call);
    const ticket = deps.breakers.admit(`${tierName}:${model}`);
    leases.add('breaker ticket', () => ticket.report(verdict));
    // The tier's own files (its system prompt, MCP config) are shared by content with the spares of its key; a
    // request's system prompt makes files of this run's own, which a spare never has.
    const outDir = req.systemPrompt ? join(tmpdir(), `claude-tiers-run-${randomUUID()}`) : undefined;
    if (outDir) leases.add('run files', () => rm(outDir, { recursive: true, force: true }));
    const { stateDir } = deps.config;
    const plan = outDir
      ? await planRun(tierName, tier, cwd, stateDir, outDir, req.systemPrompt)
      : await planShared(tierName, tier, cwd, stateDir);
    const spec = runSpec(deps, tier, cwd, { model, maxBudgetUsd: req.maxBudgetUsd, ...plan });
    const bounds = spareBounds(tier);
    const spare =
      bounds.max > 0 && deps.spares.enabled && !outDir && !req.outputSchema
        ? deps.metrics.spareTaken(
            tierName,
            deps.spares.take(
              spareKey(spec),
              req.maxBudgetUsd || req.model
                ? undefined
                : { spec: { ...spec, key: spareKey(spec), tier: tierName }, bounds },
            ),
          )
        : undefined;
    warm = !!spare;
    const run = spare ?? new ClaudeRun(spec, deps.procs, stopTimings(deps.config.limits));
    // The answer never waits for claude to exit: the run closes on its own time.
    leases.add('claude run', () => void run.close(CLOSED));
    run.stopOn(signal, CANCELLED);
    const timeoutS = req.timeoutS ?? tier.timeoutS;
    const idleS = Math.min(tier.idleTimeoutS, timeoutS);
    run.send(
      content,
      {
        wallMs: timeoutS * 1000,
        idleMs: idleS * 1000,
        wallStop: {
          reason: 'wall_timeout',
          message: `timed out after ${timeoutS} s (timeout_s); claude was stopped. Raise timeout_s, or use deep_task for long work.`,
        },
        idleStop: {
          reason: 'idle_timeout',
          message: `no event from claude for ${idleS} s (idle timeout; the API may be stalled); claude was stopped.`,
        },
      },
      { jsonSchema: req.outputSchema },
    );
    outcome = await run.outcome;
    if (outcome.kind === 'stopped') throw new ToolError(outcome.stop.message);
    if (outcome.kind === 'exited') {
      const why =
        outcome.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500) ||
        outcome.preview.slice(0, 300) ||
        'no output';
      throw new ToolError(
        `claude exited (code ${outcome.exit.exitCode ?? outcome.exit.signal}) without an answer: ${why}`,
      );
    }
    const r = outcome.result;
    verdict = verdictOf({ isError: r.is_error, apiErrorStatus: r.api_error_status, text: resultText(r) });
    if (r.is_error) throw resultError(r);
    if (req.outputSchema && r.structured_output === undefined)
      throw new ToolError(
        `claude ended without structured output (${r.num_turns} turns; it never called its StructuredOutput tool); ask again or loosen output_schema. Its text: ${resultText(r).slice(0, 300)}`,
      );
    const answer = toAnswer(tierName, model, r, Date.now() - started, tier.fallbackModel);
    answer.warm = warm;
    answered = true;
    return answer;
  } finally {
    await leases.releaseAll();
    const ms = Date.now() - started;
    const finished = quickFinished(tierName, model, outcome, answered, ms);
    deps.metrics.quickFinished(finished);
    const turns = outcome?.kind === 'result' ? Number(outcome.result.num_turns) || 0 : 0;
    hold?.settle({
      tier: tierName,
      model,
      promptChars: req.prompt.length,
      turns,
      inputTokens: finished.inputTokens,
      outputTokens: finished.outputTokens,
      costUsd: finished.costUsd,
      principal: req.principal ?? LOCAL_PRINCIPAL,
      typical: answered,
    });
    deps.log.info({ tier: tierName, model, outcome: outcome?.kind ?? 'refused', ms, warm }, 'quick_answer finished');
    deps.audit.write('quick_answer', {
      tier: tierName,
      model,
      cwd,
      prompt: deps.audit.prompt(req.prompt),
      outcome: outcome?.kind ?? 'refused',
      ms,
      warm,
    });
  }
}
