import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';

// What claude-tiers itself keeps in a state dir; a folder holding only these (or nothing) is ours to chmod.
const OURS = /^(tasks|active|kill-requests|answer-requests|worktrees|spare-files|compare|audit\.jsonl(\.1)?|audit\.key|memory\.jsonl|budgets\.json(\..*\.tmp)?|\.doctor-\d+|audit\.key\..*\.tmp)$/;

// The state dir holds prompts, tool output and the audit key: it is created 0700, and an existing one of ours with a
// wider mode is tightened. A folder that is not ours (e.g. a shared one) is left alone; the returned line says why.
export function prepareStateDir(dir: string): string | undefined {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & 0o077) === 0) return undefined;
  const mode = (st.mode & 0o777).toString(8);
  const mine = typeof process.getuid === 'function' && st.uid === process.getuid();
  const ours = readdirSync(dir).every((name) => OURS.test(name));
  if (mine && ours) {
    chmodSync(dir, 0o700);
    return undefined;
  }
  return `state dir ${dir} has mode ${mode}, so other users may read task records and the audit log; run chmod 700 ${dir}, or set CLAUDE_TIERS_STATE_DIR to a private folder`;
}

// Tightens a file of ours that an older version created with a wider mode.
export function makePrivate(path: string): void {
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } catch {
    /* not there yet: it is created 0600 */
  }
}
