import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClaudeArgs, buildClaudeEnv } from '../../src/claude/args.js';
import { ClaudeRun } from '../../src/claude/run.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { TierConfig } from '../../src/config/schema.js';
import type { SandboxScope } from '../../src/isolation/sandbox-hidden.js';
import { REAL_CLAUDE, startServer, waitFor } from '../support/harness.js';
import { claudePerFile, runLimits } from '../support/per-file.js';
import { viewOf } from '../support/views.js';

// Issue 19 item 6, replayed on the real claude (2.1.330) against the scripted API: a sandboxed task reads nothing of
// the server's state dir (audit key and log, other tasks' records and worktrees) but its own worktree, and not the
// user's config file; neither with Bash (the sandbox) nor with the file tools (Read, Grep), which run in claude's own
// process.
const f = claudePerFile();
const limits = runLimits(90_000, 90_000);
const tier: TierConfig = { ...defaultConfig().tiers.sandboxed!, partialMessages: false };
const rand = () => Math.random().toString(36).slice(2);

/** Everything claude sent to the API in the conversations whose first prompt holds one of the markers. */
const sentIn = (...markers: string[]) =>
  f.api.messageRequests((r) => markers.some((m) => r.firstUserText.includes(m))).map((r) => r.messages);

/** The tool_result blocks claude sent back to the API in the conversation whose first prompt holds `marker`. */
function toolResults(marker: string): Array<{ text: string; isError: boolean }> {
  const messages = (sentIn(marker).at(-1) ?? []) as Array<{ content: unknown }>;
  const blocks = messages.flatMap((m) =>
    Array.isArray(m.content) ? (m.content as Array<Record<string, unknown>>) : [],
  );
  const text = (b: Record<string, unknown>) => (typeof b.content === 'string' ? b.content : JSON.stringify(b.content));
  return blocks.filter((b) => b.type === 'tool_result').map((b) => ({ text: text(b), isError: b.is_error === true }));
}

// One prompt to the real claude with this tier's argv, in cwd; resolves once claude has exited.
async function runOnce(t: TierConfig, args: string[], cwd: string, prompt: string, onAsk?: (tool: string) => void) {
  const env = { ...buildClaudeEnv(t, f.env(), 0), CLAUDE_CODE_MAX_RETRIES: '0' };
  const stops = { interruptWaitMs: 1000, killGraceMs: 1000 };
  const run = new ClaudeRun({ bin: REAL_CLAUDE, args, cwd, env, maxLineBytes: 1 << 20 }, f.table, stops);
  if (onAsk) {
    run.onPermission(async (req) => {
      onAsk(req.toolName);
      return { behavior: 'deny', message: 'no' };
    });
  }
  run.send(prompt, limits);
  const outcome = await run.outcome;
  await run.ended;
  return outcome;
}

// A state dir laid out as the server lays it out, with secrets in every place a task must not read.
function fakeState() {
  const stateDir = mkdtempSync(join(tmpdir(), 'ct-sbx-state-'));
  const secrets = Object.fromEntries(
    ['KEY', 'AUDIT', 'RECORD', 'OTHER', 'CONFIG', 'LATER'].map((k) => [k, `${k}_${rand()}`]),
  );
  writeFileSync(join(stateDir, 'audit.key'), secrets.KEY!, { mode: 0o600 });
  writeFileSync(join(stateDir, 'audit.jsonl'), `{"event":"task_started","x":"${secrets.AUDIT}"}\n`);
  mkdirSync(join(stateDir, 'tasks', 't_other'), { recursive: true });
  writeFileSync(join(stateDir, 'tasks', 't_other', 'record.json'), `{"prompt":"${secrets.RECORD}"}`);
  const own = join(stateDir, 'worktrees', 't_own');
  mkdirSync(join(own, 'src'), { recursive: true });
  writeFileSync(join(own, 'src', 'mine.txt'), 'MINE_READABLE\n');
  mkdirSync(join(stateDir, 'worktrees', 't_other'));
  writeFileSync(join(stateDir, 'worktrees', 't_other', 'o.txt'), secrets.OTHER!);
  const configDir = mkdtempSync(join(tmpdir(), 'ct-sbx-config-'));
  const config = join(configDir, 'config.json');
  writeFileSync(config, JSON.stringify({ secretEnv: [secrets.CONFIG] }));
  return { stateDir, own, config, secrets };
}

// A fake state dir, and the arguments of a sandboxed run in its own worktree there (cwd: the worktree's src), with
// the config file hidden too.
function sandboxedInFakeState() {
  const state = fakeState();
  const scope: SandboxScope = { stateDir: state.stateDir, ownDir: state.own, hidden: [state.config] };
  const args = buildClaudeArgs(tier, { mcpConfigPath: null, sandboxScope: scope });
  return { ...state, args, cwd: join(state.own, 'src') };
}

describe('a sandboxed run reads nothing of the state dir but its own worktree', () => {
  it(
    'Bash cat and the Read and Grep tools fail on the audit key and log, task records, another worktree and ' +
      'the config; its own files stay readable and writable',
    async () => {
      const { stateDir, config, secrets, args, cwd } = sandboxedInFakeState();
      const later = join(stateDir, 'worktrees', 't_later');
      const marker = `RUN-${rand()}`;
      const inState = ['audit.key', 'audit.jsonl', 'tasks/t_other/record.json', 'worktrees/t_other/o.txt'];
      const hidden = [...inState.map((p) => join(stateDir, p)), config];
      // A worktree made after the settings were written is hidden from Bash too (the sandbox hides the whole state
      // dir).
      const cats = [...hidden, `${later}/l.txt`].map((p) => `cat ${p}; echo rc=$?`).join('; ');
      const bash = `${cats}; ls ${stateDir}; cat mine.txt; echo ok > new.txt; cat new.txt`;
      const reads = hidden.map((p) => `[[tool:Read:{"file_path":"${p}"}]]`).join('');
      const grep = `[[tool:Grep:{"pattern":"_[a-z0-9]{6}","path":"${stateDir}"}]]`;
      const mine = `[[tool:Read:{"file_path":"${cwd}/mine.txt"}]]`;
      const outcome = await runOnce(tier, args, cwd, `${marker} [[bash:mkdir -p x]]${reads}${grep}${mine}`);
      // A worktree made after the settings were written (the second run below reads it with Bash).
      mkdirSync(later);
      writeFileSync(join(later, 'l.txt'), secrets.LATER!);
      expect(outcome.kind).toBe('result');
      const results = toolResults(marker);
      expect(results).toHaveLength(8);
      const [, ...rest] = results;
      const denied = { isError: true, text: expect.stringMatching(/denied by your permission settings/) };
      for (const r of rest.slice(0, 5)) expect(r).toMatchObject(denied);
      // Grep over the whole state dir skips every denied path: it finds nothing of the secrets (checked below).
      expect(rest[5]!.text).not.toMatch(/audit|t_other/);
      expect(rest[6]!.text).toMatch(/MINE_READABLE/);
      const bashMarker = `RUN-${rand()}`;
      await runOnce(tier, args, cwd, `${bashMarker} [[bash:${bash}]]`);
      const [shell] = toolResults(bashMarker);
      expect(shell!.text.match(/(No such file or directory|Permission denied)\s+rc=1/g)).toHaveLength(
        hidden.length + 1,
      );
      expect(shell!.text).toMatch(/MINE_READABLE\s+ok/);
      expect(readFileSync(join(cwd, 'new.txt'), 'utf8')).toBe('ok\n');
      // Nothing secret reached the model: not in a tool result, not in any request of either conversation.
      const sent = JSON.stringify(sentIn(marker, bashMarker));
      for (const secret of Object.values(secrets)) expect(sent).not.toContain(secret);
    },
  );
});

describe('a folder made in the state dir after the run started', () => {
  it(
    'stays unreadable to Read, Grep and Glob (the deny rules were fixed at start; the path guard checks each ' +
      'call)',
    async () => {
      const { stateDir, secrets, args, cwd } = sandboxedInFakeState();
      // An unguessable name, as a clone's would be: no rule written at start can name it.
      const later = join(stateDir, 'worktrees', `t_${rand()}`);
      const marker = `RUN-${rand()}`;
      const tools = [
        ['Read', { file_path: `${later}/l.txt` }],
        ['Grep', { pattern: 'LATER_', path: later, output_mode: 'content' }],
        ['Glob', { pattern: '**/*.txt', path: later }],
        ['Glob', { pattern: `${stateDir}/worktrees/*/l.txt` }],
        ['Grep', { pattern: 'LATER_', path: join(stateDir, 'worktrees'), output_mode: 'content' }],
        ['Grep', { pattern: 'LATER_', path: stateDir, output_mode: 'content' }],
        // A link the task made in its own folder, to the new folder: followed, it is the same hidden path.
        ['Read', { file_path: `${cwd}/link/l.txt` }],
        ['Grep', { pattern: 'LATER_', path: cwd, output_mode: 'content' }],
        ['Read', { file_path: `${cwd}/mine.txt` }],
      ] as const;
      const steps = tools.map(([name, input]) => `[[tool:${name}:${JSON.stringify(input)}]]`).join('');
      // The first Bash step waits while the test makes the new folder, then links to it from the task's own folder.
      const wait = `[[bash:echo waiting; sleep 4; ln -s ${later} link; echo linked]]`;
      const run = runOnce(tier, args, cwd, `${marker} ${wait}${steps}`);
      await waitFor(() => f.api.messageRequests((r) => r.firstUserText.includes(marker)).length > 0, 60_000);
      mkdirSync(later);
      writeFileSync(join(later, 'l.txt'), secrets.LATER!);
      const outcome = await run;
      expect(outcome.kind).toBe('result');
      const [bash, ...results] = toolResults(marker);
      expect(bash!.text).toMatch(/linked/);
      expect(results).toHaveLength(tools.length);
      const refused = { isError: true, text: expect.stringMatching(/hides|denied/) };
      for (const r of results.slice(0, 7)) expect(r).toMatchObject(refused);
      // Searching its own folder works, and the link inside it leads nowhere.
      expect(results[7]!.text).not.toContain('LATER_');
      expect(results[8]!.text).toMatch(/MINE_READABLE/);
      expect(JSON.stringify(sentIn(marker))).not.toContain(secrets.LATER);
    },
  );
});

describe('through the server: a sandboxed deep_task', () => {
  it(
    "cannot read the server's audit key and log, another running task's worktree, or the user's config " + 'file',
    async () => {
      const repo = mkdtempSync(join(tmpdir(), 'ct-sbx-repo-'));
      const git = (...a: string[]) => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8' }).trim();
      git('init', '-q', '-b', 'main');
      writeFileSync(join(repo, 'README'), 'base\n');
      git('add', '.');
      git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
      const configSecret = `CONFIG_${rand()}`;
      const config = join(mkdtempSync(join(tmpdir(), 'ct-sbx-cfg-')), 'config.json');
      const settings = {
        allowedRoots: [repo],
        secretEnv: [configSecret],
        tiers: { comprehensive: { mcpConfig: null } },
      };
      writeFileSync(config, JSON.stringify(settings));
      const s = await startServer(f.api, { cwd: repo, env: { CLAUDE_TIERS_CONFIG: config } });
      const call = async (name: string, args: Record<string, unknown>) =>
        viewOf(await s.client.callTool({ name, arguments: args }));
      const sandboxed = (prompt: string) => call('deep_task', { prompt, cwd: repo, tier: 'sandboxed', wait_s: 0 });
      try {
        // Another task, still running, with a file in its worktree.
        const otherSecret = `OTHER_${rand()}`;
        const other = await sandboxed(`[[bash:echo ${otherSecret} > o.txt; echo started; sleep 20]]`);
        const otherPath = await waitFor(
          async () => (await call('task_status', { task_id: other.task_id })).worktree?.path,
          30_000,
        );
        const otherFile = join(otherPath!, 'o.txt');
        expect(
          await waitFor(() => existsSync(otherFile) && readFileSync(otherFile, 'utf8').includes(otherSecret), 30_000),
        ).toBe(true);
        const key = readFileSync(join(s.stateDir, 'audit.key'));
        const audit = readFileSync(join(s.stateDir, 'audit.jsonl'), 'utf8');
        expect(audit).toContain(other.task_id);
        const targets = [
          join(s.stateDir, 'audit.key'),
          join(s.stateDir, 'audit.jsonl'),
          join(otherPath!, 'o.txt'),
          config,
        ];
        const marker = `RUN-${rand()}`;
        const cats = targets
          .slice(1)
          .map((p) => `cat ${p}; echo rc=$?`)
          .join('; ');
        const bash = `[[bash:base64 -w0 ${targets[0]}; echo; ${cats}]]`;
        const prompt = `${marker} ${bash}${targets.map((p) => `[[tool:Read:{"file_path":"${p}"}]]`).join('')}`;
        const id = (await sandboxed(prompt)).task_id;
        let v = await call('task_status', { task_id: id });
        for (const end = Date.now() + 90_000; !v.final && Date.now() < end;) {
          v = await call('task_status', { task_id: id, wait_s: 10, cursor: v.cursor });
        }
        expect(v.state).toBe('succeeded');
        const [shell, ...reads] = toolResults(marker);
        expect(shell!.text).toMatch(/audit\.key: No such file or directory/);
        expect(shell!.text.match(/(No such file or directory|Permission denied)\s+rc=1/g)).toHaveLength(3);
        expect(reads).toHaveLength(4);
        const denied = { isError: true, text: expect.stringMatching(/denied by your permission settings/) };
        for (const r of reads) expect(r).toMatchObject(denied);
        const sent = JSON.stringify(sentIn(marker));
        const secrets = [
          key.toString('base64').slice(0, 20),
          key.toString('hex').slice(0, 20),
          otherSecret,
          configSecret,
        ];
        for (const secret of secrets) expect(sent).not.toContain(secret);
      } finally {
        await s.close();
      }
    },
  );
});

describe('choosing a tier: the comprehensive tier is no sandbox', () => {
  it(
    'runs a Bash command that reaches the network without asking anyone (Bash is in its allowedTools; ' +
      'acceptEdits does not matter)',
    async () => {
      let hits = 0;
      const listener = createServer((_req, res) => res.end('REACHED_THE_NETWORK\n'));
      listener.on('request', () => hits++);
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      try {
        const port = (listener.address() as AddressInfo).port;
        const comprehensive: TierConfig = {
          ...defaultConfig().tiers.comprehensive!,
          mcpConfig: null,
          partialMessages: false,
        };
        expect(comprehensive.permissionMode).toBe('acceptEdits');
        const args = buildClaudeArgs(comprehensive, { mcpConfigPath: null, forwardPermissions: true });
        const cwd = mkdtempSync(join(tmpdir(), 'ct-comp-'));
        const asked: string[] = [];
        const prompt = `[[bash:curl -s -m 5 http://127.0.0.1:${port}/; echo CURL_DONE]]`;
        const outcome = await runOnce(comprehensive, args, cwd, prompt, (tool) => asked.push(tool));
        expect(outcome.kind === 'result' && outcome.result.result).toMatch(/REACHED_THE_NETWORK\s+CURL_DONE/);
        expect(asked).toEqual([]);
        expect(hits).toBe(1);
      } finally {
        listener.close();
      }
    },
  );
});
