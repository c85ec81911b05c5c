import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { answerOut } from '../../src/cli/output.js';
import { REAL_CLAUDE, ROOT, SERVER_ENTRY, waitFor } from '../support/harness.js';
import { apiPerFile } from '../support/per-file.js';
import { claudeEnv, makeTempHome } from '../support/scripted-api.js';

// A model's answer steered by a hostile tree may hold terminal escapes (OSC 0 sets the window title, OSC 52 the
// clipboard). `ask` and `run` print it raw into a pipe (a script gets the bytes it asked for), escaped on a terminal.
const file = apiPerFile();
const run = promisify(execFile);
const ANSWER = 'x\u001b]0;owned\u0007y\u202ez';

async function cliEnv(): Promise<Record<string, string>> {
  return {
    ...claudeEnv(file.api, await makeTempHome()),
    CLAUDE_TIERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'ct-answer-')),
    CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
    CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json'),
  };
}

describe("a model's answer holding terminal escapes", () => {
  it('keeps line breaks and tabs, and escapes the rest only on a terminal', () => {
    expect(answerOut(`a\tb\n${ANSWER}`, true)).toBe('a\tb\nx\\u{1b}]0;owned\\u{7}y\\u{202e}z');
    expect(answerOut(ANSWER, false)).toBe(ANSWER);
  });

  it('reaches a pipe as it is, and a terminal (tmux) escaped', async () => {
    const env = await cliEnv();
    const piped = await run(process.execPath, [SERVER_ENTRY, 'ask', `[[text:${ANSWER}]]`], { env, timeout: 120_000 });
    expect(piped.stdout).toBe(`${ANSWER}\n`);
    const dir = mkdtempSync(join(tmpdir(), 'ct-answer-tty-'));
    const script = join(dir, 'ask.sh');
    // The prompt reaches the CLI from a file, so the shell that tmux starts never reads the escapes itself.
    writeFileSync(join(dir, 'prompt'), `[[text:${ANSWER}]]`);
    const exports = Object.entries(env).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`);
    writeFileSync(
      script,
      [...exports, `${process.execPath} ${SERVER_ENTRY} ask "$(cat ${dir}/prompt)"; echo ASK-DONE; sleep 120`].join(
        '\n',
      ),
    );
    const session = `ctans${process.pid}`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '20', `sh ${script}`]);
    try {
      const capture = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
      const screen =
        (await waitFor(() => (capture().includes('ASK-DONE') ? capture() : undefined), 120_000, 250)) ?? '';
      expect(screen).toContain('x\\u{1b}]0;owned\\u{7}y\\u{202e}z');
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  });
});
