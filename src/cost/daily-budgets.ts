import { ToolError } from '../errors.js';

// What the budgets persist: the UTC day and what each principal spent on it.
export interface BudgetSnapshot {
  day: string;
  spent: Record<string, number>;
}

// Where the budgets persist (a file in the state dir; a memory store in tests).
export interface BudgetStore {
  load(): BudgetSnapshot | undefined;
  save(snapshot: BudgetSnapshot): void;
}

const DAY_MS = 86_400_000;
const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

// The daily budget of an HTTP principal ("token:<name>") from the config's budgets: its own name, else "default";
// principals that are not HTTP tokens (the local user) have none.
export function budgetFor(
  budgets: Record<string, number>,
  principal: string,
): { name: string; usd: number } | undefined {
  if (!principal.startsWith('token:')) return undefined;
  const name = principal.slice('token:'.length);
  if (Object.hasOwn(budgets, name)) return { name, usd: budgets[name]! };
  return Object.hasOwn(budgets, 'default') ? { name: 'default', usd: budgets.default! } : undefined;
}

// Spend per principal per UTC day against a daily budget; a principal that has spent its budget is refused until the
// next UTC midnight. Pure apart from the injected clock and store.
export class DailyBudgets {
  private day: string;
  private spent: Record<string, number> = {};
  /** What calls in flight on this server are expected to cost, by principal (never persisted, never shared). */
  private readonly reserved = new Map<string, number>();
  /** What calls in flight on the cluster's other servers hold, by principal (absorbHeld; empty without a cluster). */
  private heldElsewhere: Record<string, number> = {};
  private heldListener: (principal: string, usd: number) => void = () => {};
  private readonly now: () => number;
  private spendListener: (day: string, principal: string, usd: number) => void = () => {};
  /** Whether the config names any budget: without one, no principal is ever refused or held back. */
  readonly any: boolean;

  constructor(private readonly options: { budgets: Record<string, number>; now?: () => number; store?: BudgetStore }) {
    this.any = Object.keys(options.budgets).length > 0;
    this.now = options.now ?? Date.now;
    this.day = utcDay(this.now());
    const saved = options.store?.load();
    if (saved && saved.day === this.day) this.spent = { ...saved.spent };
  }

  // Starts a new day at UTC midnight: everyone's spend goes back to zero.
  private roll(): void {
    const today = utcDay(this.now());
    if (today === this.day) return;
    this.day = today;
    this.spent = {};
  }

  // What a principal has spent today, in USD.
  spentToday(principal: string): number {
    this.roll();
    return this.spent[principal] ?? 0;
  }

  // Adds what a finished call cost to its principal's day (only principals with a budget are tracked).
  spend(principal: string, usd: number): void {
    if (!(usd > 0) || !budgetFor(this.options.budgets, principal)) return;
    this.roll();
    this.spent[principal] = (this.spent[principal] ?? 0) + usd;
    this.options.store?.save({ day: this.day, spent: { ...this.spent } });
    this.spendListener(this.day, principal, usd);
  }

  // The UTC day spend counts against now.
  today(): string {
    this.roll();
    return this.day;
  }

  // Each spend, as it is counted (a cluster adds it to the shared sums).
  onSpend(listener: (day: string, principal: string, usd: number) => void): void {
    this.spendListener = listener;
  }

  // What every server of a cluster spent today, this server's own spend included: it never lowers a principal's spend.
  absorb(day: string, spent: Record<string, number>): void {
    this.roll();
    if (day !== this.day) return;
    for (const [p, usd] of Object.entries(spent)) if (usd > (this.spent[p] ?? 0)) this.spent[p] = usd;
  }

  // Whether a principal has a daily budget here (an HTTP token with its own entry or "default"; never the local user).
  appliesTo(principal: string): boolean {
    return budgetFor(this.options.budgets, principal) !== undefined;
  }

  // What the principal's calls in flight on this server hold back of its budget, in USD.
  reservedNow(principal: string): number {
    return this.reserved.get(principal) ?? 0;
  }

  // Each change of what a principal's calls in flight here hold (a cluster shares it with the other servers).
  onHeld(listener: (principal: string, usd: number) => void): void {
    this.heldListener = listener;
  }

  // What the calls in flight on the cluster's other servers hold now, by principal: counted by admit.
  absorbHeld(held: Record<string, number>): void {
    this.heldElsewhere = { ...held };
  }

  // Admits a call and holds back its estimated cost until it ends: a call is refused once what was spent plus what
  // the calls in flight hold reaches the budget, so parallel calls overshoot it by at most one estimate. Returns the
  // release (call it once, in a finally, after the call's real cost was spent).
  reserve(principal: string, estimateUsd: number): () => void {
    this.admit(principal);
    const usd = Number.isFinite(estimateUsd) && estimateUsd > 0 ? estimateUsd : 0;
    if (!usd || !budgetFor(this.options.budgets, principal)) return () => {};
    this.reserved.set(principal, this.reservedNow(principal) + usd);
    this.heldListener(principal, this.reservedNow(principal));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.reservedNow(principal) - usd;
      if (left > 1e-12) this.reserved.set(principal, left);
      else this.reserved.delete(principal);
      this.heldListener(principal, this.reservedNow(principal));
    };
  }

  // Throws a one-line ToolError when the principal has spent its daily budget (with what its calls in flight hold
  // back): how much, the budget, when it resets.
  admit(principal: string): void {
    const budget = budgetFor(this.options.budgets, principal);
    if (!budget) return;
    const spent = this.spentToday(principal);
    const held = this.reservedNow(principal) + (this.heldElsewhere[principal] ?? 0);
    if (spent + held < budget.usd) return;
    const now = this.now();
    const reset = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
    const hours = Math.ceil((reset - now) / 360_000) / 10;
    const token = principal.slice('token:'.length);
    const limit = `its daily budget of $${budget.usd} (budgets.${budget.name} in the server's config)`;
    if (spent < budget.usd) {
      throw new ToolError(
        `budget: token "${token}" has spent $${spent.toFixed(4)} of ${limit} today and its calls still running ` +
          `are estimated at $${held.toFixed(4)}, which reaches it; wait for one of them to end and retry ` +
          `(what they really cost counts), or raise budgets.${budget.name}`,
      );
    }
    throw new ToolError(
      `budget: token "${token}" has spent $${spent.toFixed(4)} of ${limit} today; ` +
        `calls that start claude are refused until it resets at ${new Date(reset).toISOString()} ` +
        `(in ${hours} h); raise budgets.${budget.name} to allow more`,
    );
  }
}
