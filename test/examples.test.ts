import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fanOut, makeScratchRepo } from '../examples/fan-out.js';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { REAL_CLAUDE, ROOT, SERVER_ENTRY } from './support/harness.js';

// examples/fan-out.ts --isolate through the real claude and the scripted API: three tasks write the same file name
// of one repository at once, each on its own branch, and the user's tree stays as it was.
let api: ScriptedApi;
beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

const serverEnv = async (): Promise<Record<string, string>> => ({
  ...claudeEnv(api, await makeTempHome()),
  CLAUDE_TIERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'ct-fan-iso-')),
  CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
  CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json'),
  CLAUDE_TIERS_WARM_SPARES: '0',
});

describe('examples/fan-out.ts --isolate', () => {
  it(
    'fanOut with isolate: three branches, each holding only its own shared.txt; the user tree and HEAD ' + 'unchanged',
    async () => {
      const repo = makeScratchRepo();
      const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
      const head = git('rev-parse', 'HEAD');
      const words = ['alpha', 'beta', 'gamma'];
      const results = await fanOut({
        env: await serverEnv(),
        args: [SERVER_ENTRY],
        cwd: repo,
        isolate: true,
        log: () => {},
        prompts: words.map((w) => `[[bash:echo ${w} > shared.txt]]`),
      });
      expect(results.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      const branches = results.map((r) => r.worktree?.branch);
      expect(branches).toEqual(results.map((r) => `claude-tiers/${r.task_id}`));
      expect(new Set(branches).size).toBe(3);
      for (const [i, w] of words.entries()) {
        expect(git('show', `${branches[i]}:shared.txt`)).toBe(w);
        expect(results[i]!.worktree?.changed_files).toEqual(['shared.txt']);
        expect(results[i]!.worktree?.diffstat).toMatch(/shared\.txt \| 1 \+\n.*1 file changed, 1 insertion/);
      }
      expect(git('status', '--porcelain')).toBe('');
      expect(git('rev-parse', 'HEAD')).toBe(head);
      expect(existsSync(join(repo, 'shared.txt'))).toBe(false);
    },
  );

  it(
    'the CLI with --isolate and no --cwd makes a scratch repository, says where, and prints each branch with ' +
      'its diffstat',
    async () => {
      const cli = await execa(
        process.execPath,
        [
          join(ROOT, 'dist', 'examples', 'fan-out.js'),
          '--isolate',
          '[[bash:echo cli-one > out.txt]]',
          '[[text:nothing changed]]',
        ],
        {
          env: await serverEnv(),
          extendEnv: false,
          reject: false,
          timeout: 30_000,
        },
      );
      expect(cli.exitCode, cli.stderr).toBe(0);
      const repo = /^scratch repository: (.+)$/m.exec(cli.stderr)?.[1];
      expect(repo).toBeDefined();
      const branch = /^branch (claude-tiers\/t_[\w-]+)$/m.exec(cli.stdout)?.[1];
      expect(branch).toBeDefined();
      expect(cli.stdout).toMatch(/out\.txt \| 1 \+/);
      expect(cli.stdout).toContain('no changes (no branch kept)');
      expect(execFileSync('git', ['-C', repo!, 'show', `${branch}:out.txt`], { encoding: 'utf8' })).toBe('cli-one\n');
      expect(execFileSync('git', ['-C', repo!, 'status', '--porcelain'], { encoding: 'utf8' })).toBe('');
    },
  );
});
