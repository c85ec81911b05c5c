import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileBudgetStore } from '../../src/cost/budget-store.js';
import { restrictProjectConfig } from '../../src/config/trust.js';
import { budgetFor, DailyBudgets, type BudgetSnapshot, type BudgetStore } from '../../src/cost/daily-budgets.js';

const memoryStore = (): BudgetStore & { saved?: BudgetSnapshot } => ({
  load() {
    return this.saved;
  },
  save(s) {
    this.saved = s;
  },
});

describe('budgets and prices in a project config', () => {
  it('are ignored with the reason: only your own config decides what a token may spend and what a model costs', () => {
    const { layer, ignored } = restrictProjectConfig(
      {
        budgets: { default: 1000 },
        prices: { opus: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } },
        limits: { maxQueue: 5 },
      },
      '/repo/claude-tiers.config.json',
    );
    expect(layer).toEqual({ limits: { maxQueue: 5 } });
    expect(ignored.map((i) => i.key).sort()).toEqual(['budgets', 'prices']);
    expect(ignored.find((i) => i.key === 'budgets')?.why).toMatch(/how many dollars each HTTP token may spend/);
  });
});

describe('budgetFor', () => {
  it("a token's own entry, else default; the local user has none", () => {
    expect(budgetFor({ ci: 1, default: 5 }, 'token:ci')).toEqual({ name: 'ci', usd: 1 });
    expect(budgetFor({ ci: 1, default: 5 }, 'token:alice')).toEqual({ name: 'default', usd: 5 });
    expect(budgetFor({ ci: 1, default: 5 }, 'token:default')).toEqual({ name: 'default', usd: 5 });
    expect(budgetFor({ ci: 1 }, 'token:alice')).toBeUndefined();
    expect(budgetFor({ default: 5 }, 'local')).toBeUndefined();
  });
});

describe('DailyBudgets', () => {
  it('refuses a token once its spend reaches the budget, saying how much, the budget and when it resets', () => {
    let now = Date.UTC(2026, 10, 27, 20, 30);
    const budgets = new DailyBudgets({ budgets: { ci: 0.03 }, now: () => now });
    budgets.spend('token:ci', 0.02);
    expect(() => budgets.admit('token:ci')).not.toThrow();
    budgets.spend('token:ci', 0.015);
    expect(() => budgets.admit('token:ci')).toThrow(
      'budget: token "ci" has spent $0.0350 of its daily budget of $0.03 (budgets.ci in the server\'s ' +
        'config) today; calls that start claude are refused until it resets at 2026-11-28T00:00:00.000Z (in ' +
        '3.5 h); raise budgets.ci to allow more',
    );
    // Another token, and a principal without a budget, go on.
    expect(() => budgets.admit('token:alice')).not.toThrow();
    budgets.spend('local', 100);
    expect(() => budgets.admit('local')).not.toThrow();
    // A minute before midnight it still holds; at midnight the day starts over.
    now = Date.UTC(2026, 10, 27, 23, 59);
    expect(() => budgets.admit('token:ci')).toThrow(/in 0\.1 h/);
    now = Date.UTC(2026, 10, 28, 0, 0);
    expect(budgets.spentToday('token:ci')).toBe(0);
    expect(() => budgets.admit('token:ci')).not.toThrow();
  });

  it("keeps today's spend across a restart through its store, and drops yesterday's", () => {
    let now = Date.UTC(2026, 10, 27, 9, 0);
    const store = memoryStore();
    new DailyBudgets({ budgets: { default: 1 }, now: () => now, store }).spend('token:default', 1.2);
    expect(store.saved).toEqual({ day: '2026-11-27', spent: { 'token:default': 1.2 } });
    const restarted = new DailyBudgets({ budgets: { default: 1 }, now: () => now, store });
    expect(() => restarted.admit('token:default')).toThrow(
      /has spent \$1\.2000 of its daily budget of \$1 \(budgets\.default/,
    );
    now = Date.UTC(2026, 10, 28, 9, 0);
    expect(() =>
      new DailyBudgets({ budgets: { default: 1 }, now: () => now, store }).admit('token:default'),
    ).not.toThrow();
  });
});

describe('fileBudgetStore', () => {
  it(
    'writes a 0600 JSON file in the state dir and reads it back; a corrupt file counts as nothing spent, with ' +
      'a warning',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'ct-budgets-'));
      const warnings: string[] = [];
      const store = fileBudgetStore(dir, (m) => warnings.push(m));
      expect(store.load()).toBeUndefined();
      store.save({ day: '2026-11-27', spent: { 'token:ci': 0.5 } });
      const file = join(dir, 'budgets.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ day: '2026-11-27', spent: { 'token:ci': 0.5 } });
      expect(store.load()).toEqual({ day: '2026-11-27', spent: { 'token:ci': 0.5 } });
      expect(warnings).toEqual([]);
      writeFileSync(file, '{ not json');
      expect(store.load()).toBeUndefined();
      expect(warnings[0]).toMatch(/budgets\.json: .*today's spend starts from zero/);
    },
  );
});

describe('DailyBudgets holds for calls in flight (issue 19, item 11)', () => {
  it('admits while spend plus holds stays under the budget; a settled call trades its hold for its real cost', () => {
    const b = new DailyBudgets({ budgets: { ci: 0.01 }, now: () => Date.UTC(2026, 10, 27, 12) });
    const first = b.reserve('token:ci', 0.004);
    const second = b.reserve('token:ci', 0.004);
    const third = b.reserve('token:ci', 0.004);
    expect(b.reservedNow('token:ci')).toBeCloseTo(0.012, 9);
    expect(() => b.reserve('token:ci', 0.004)).toThrow(
      new RegExp(
        String.raw`^budget: token "ci" has spent \$0\.0000 of its daily budget of \$0\.01 ` +
          String.raw`.* its calls still running are estimated at \$0\.0120, which reaches it`,
      ),
    );
    b.spend('token:ci', 0.003);
    first();
    first();
    expect(b.reservedNow('token:ci')).toBeCloseTo(0.008, 9);
    second();
    third();
    expect(b.reservedNow('token:ci')).toBe(0);
    expect(() => b.reserve('token:ci', 0.004)()).not.toThrow();
    // The local user and tokens without a budget hold nothing.
    b.reserve('local', 5);
    expect(b.reservedNow('local')).toBe(0);
  });
});
