import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

// What claude-tiers itself keeps in a state dir; a folder holding only these (or nothing) is ours to chmod.
const OURS = new RegExp(
  String.raw`^(tasks|active|kill-requests|answer-requests|worktrees|spare-files|compare|` +
    String.raw`audit\.jsonl(\.1)?|audit\.key|links\.key|memory\.jsonl|budgets\.json(\..*\.tmp)?|` +
    String.raw`\.doctor-\d+|(audit|links)\.key\..*\.tmp)$`,
);

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
  return (
    `state dir ${dir} has mode ${mode}, so other users may read task records and the audit log; run chmod ` +
    `700 ${dir}, or set CLAUDE_TIERS_STATE_DIR to a private folder`
  );
}

// Tightens a file of ours that an older version created with a wider mode.
export function makePrivate(path: string): void {
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } catch {
    /* not there yet: it is created 0600 */
  }
}

const KEY_BYTES = 32;

// A secret of this state dir (the audit key, the one-tap links' key): made once (0600, published atomically with
// link, so two servers starting at once agree on it), then read.
export function stateSecret(stateDir: string, name: string): Buffer {
  const path = join(stateDir, name);
  const read = () => {
    const key = readFileSync(path);
    if (key.length < KEY_BYTES)
      throw new Error(`${path} is shorter than ${KEY_BYTES} bytes; delete it to have a new key made`);
    return key;
  };
  if (existsSync(path)) return read();
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return read();
}
