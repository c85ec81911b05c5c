import { createInterface } from 'node:readline/promises';
import { questionLine } from '../claude/decision-text.js';
import type { InputAnswer, InputRequest } from '../tasks/input-requests.js';

const ANSWERED_ELSEWHERE_POLL_MS = 500;

// `run` in a terminal: asks the user about a task's permission request (y/n; with n, an optional reason for claude).
// Undefined when the request was closed meanwhile (answered from another terminal, timed out, the task ended).
export async function askPermission(
  id: string,
  q: InputRequest,
  closed: () => boolean,
): Promise<Omit<InputAnswer, 'by'> | undefined> {
  const controller = new AbortController();
  const poll = setInterval(() => closed() && controller.abort(), ANSWERED_ELSEWHERE_POLL_MS);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Ctrl-C while asked stops the task, as it does at any other time.
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  try {
    process.stderr.write(`\r\x1b[2K${id} asks for permission: ${questionLine(q)}\n`);
    process.stderr.write(`  (it will be denied at ${q.expires_at} if nobody answers; `);
    process.stderr.write(`or answer from elsewhere: claude-tiers answer ${id} allow|deny)\n`);
    let yes: boolean | undefined;
    while (yes === undefined) {
      const reply = (await rl.question('Allow? [y/n] ', { signal: controller.signal })).trim().toLowerCase();
      if (/^(y|yes)$/.test(reply)) yes = true;
      else if (/^(n|no)$/.test(reply)) yes = false;
    }
    if (yes) return { decision: 'allow' };
    const message = (await rl.question('Why? (told to claude; Enter to skip) ', { signal: controller.signal })).trim();
    return { decision: 'deny', ...(message ? { message } : {}) };
  } catch (err) {
    if ((err as Error).name === 'AbortError') {
      process.stderr.write('\n(answered elsewhere, or no longer asked)\n');
      return undefined;
    }
    throw err;
  } finally {
    clearInterval(poll);
    rl.close();
  }
}
