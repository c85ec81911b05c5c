import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BudgetSnapshot, BudgetStore } from './daily-budgets.js';

const FILE = 'budgets.json';

// The daily budgets' spend as a small 0600 JSON file in the state dir (written atomically: temp file + rename), so a
// restart keeps what was spent today. An unreadable file counts as nothing spent, with a warning.
export function fileBudgetStore(stateDir: string, warn: (message: string) => void = () => {}): BudgetStore {
  const path = join(stateDir, FILE);
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
      try {
        const v = JSON.parse(text) as BudgetSnapshot;
        if (typeof v.day !== 'string' || typeof v.spent !== 'object' || v.spent === null)
          throw new Error('not a budgets file');
        const spent: Record<string, number> = {};
        for (const [k, usd] of Object.entries(v.spent)) if (typeof usd === 'number' && usd > 0) spent[k] = usd;
        return { day: v.day, spent };
      } catch (err) {
        warn(`${path}: ${(err as Error).message}; today's spend starts from zero`);
        return undefined;
      }
    },
    save(snapshot) {
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, JSON.stringify(snapshot), { mode: 0o600 });
        renameSync(tmp, path);
      } catch (err) {
        warn(`${path}: cannot be written (${(err as Error).message}); spend is kept in memory only`);
      }
    },
  };
}
