import type { Config } from '../config/schema.js';
import { fileBudgetStore } from './budget-store.js';
import { CostModel, type CostSample } from './cost-model.js';
import { DailyBudgets } from './daily-budgets.js';

// One finished quick answer or task: what it cost, who asked, and whether it counts as a typical run of its tier.
export interface SpendEntry extends CostSample {
  principal: string;
  /** Answered or succeeded: a stopped or failed run still costs, but says little about a typical one. */
  typical: boolean;
}

// A finished task record, as far as spending goes (a TaskRecord fits).
export interface FinishedRecord {
  state: string;
  principal?: string;
  request: { tier: string; model: string; prompt: string };
  stats: { costUsd: number; turns: number; inputTokens: number; outputTokens: number };
}

// What one call holds of its principal's budget while it runs: settle it once, in a finally, with what the call cost
// (nothing when it never ran); the hold is released as the real cost is counted.
export interface BudgetHold {
  /** What the call holds back: the cost model's estimate, 0 when its principal has no budget (nothing to hold). */
  readonly estimateUsd: number;
  settle(entry?: SpendEntry): void;
}

// A call about to start claude, as far as its estimate goes.
export interface CallEstimate {
  tier: string;
  model: string;
  promptChars: number;
  /** The caller's own cap (max_budget_usd): the call is not expected to cost more. */
  maxBudgetUsd?: number;
}

// The server's spending: the cost model that tier "auto" estimates with, and the HTTP tokens' daily budgets.
export class Spending {
  constructor(
    readonly costs: CostModel,
    readonly budgets: DailyBudgets,
  ) {}

  // From the config: prices and budgets, the budgets' spend persisted in the state dir.
  static open(config: Config, warn: (message: string) => void): Spending {
    return new Spending(
      new CostModel({ prices: config.prices }),
      new DailyBudgets({ budgets: config.budgets, store: fileBudgetStore(config.stateDir, warn) }),
    );
  }

  // Teaches the cost model the succeeded tasks among these records (oldest first), e.g. the state dir's recent tasks at
  // start-up.
  learn(records: FinishedRecord[]): void {
    for (const r of records) if (r.state === 'succeeded') this.costs.record(entryOf(r));
  }

  // Refuses (ToolError) a call that would start claude for a principal whose daily budget is spent.
  admit(principal: string): void {
    this.budgets.admit(principal);
  }

  // The cost model's estimate of a call: its model's, else (an unpriced model) the priciest priced model's, at most
  // the caller's own cap; 0 when nothing is priced.
  estimate(call: CallEstimate): number {
    const own = this.costs.estimate(call.tier, call.model, call.promptChars)?.usd;
    const priced = this.costs.pricedModels().map((m) => this.costs.estimate(call.tier, m, call.promptChars)?.usd ?? 0);
    const usd = own ?? Math.max(0, ...priced);
    return call.maxBudgetUsd !== undefined ? Math.min(usd, call.maxBudgetUsd) : usd;
  }

  // Admits a call that starts claude (ToolError when its principal's budget is spent or held by its calls in flight)
  // and holds back the call's estimate until it settles. A principal without a budget (any principal of a server
  // without budgets) is admitted and holds nothing, so nothing is estimated (the estimate serves the budgets only).
  reserve(principal: string, call: CallEstimate): BudgetHold {
    const budgeted = this.budgets.any && this.budgets.appliesTo(principal);
    const estimateUsd = budgeted ? this.estimate(call) : 0;
    const release = budgeted ? this.budgets.reserve(principal, estimateUsd) : () => {};
    let settled = false;
    return {
      estimateUsd,
      settle: (entry) => {
        if (settled) return;
        settled = true;
        try {
          if (entry) this.finished(entry);
        } finally {
          release();
        }
      },
    };
  }

  // Counts a finished run against its principal's budget and, if typical, teaches the cost model.
  finished(entry: SpendEntry): void {
    this.budgets.spend(entry.principal, entry.costUsd);
    if (entry.typical) this.costs.record(entry);
  }

  // A task reached its final state: its cost is counted and the hold it ran with (if any) released.
  taskFinished(record: FinishedRecord, hold?: BudgetHold): void {
    if (hold) hold.settle(entryOf(record));
    else this.finished(entryOf(record));
  }
}

function entryOf(r: FinishedRecord): SpendEntry {
  const { tier, model, prompt } = r.request;
  const { costUsd, turns, inputTokens, outputTokens } = r.stats;
  return {
    tier,
    model,
    promptChars: prompt.length,
    turns,
    inputTokens,
    outputTokens,
    costUsd,
    principal: r.principal ?? 'local',
    typical: r.state === 'succeeded',
  };
}
