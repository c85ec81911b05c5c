import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClaudeArgs, buildClaudeEnv } from '../../src/claude/args.js';
import type { PermissionRequest } from '../../src/claude/control.js';
import { ClaudeRun, type RunOutcome } from '../../src/claude/run.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { TierConfig } from '../../src/config/schema.js';
import { checkSandboxTools } from '../../src/isolation/sandbox-check.js';
import { sandboxSettings } from '../../src/isolation/sandbox-settings.js';
import { REAL_CLAUDE } from '../support/harness.js';
import { claudePerFile, runLimits } from '../support/per-file.js';

// The sandboxed tier's flags on the real claude (2.1.330) against the scripted API, as root: Claude Code's own
// sandbox holds Bash in the cwd and off the network, blockWritesOutsideWorkingDirectories holds Write and Edit.
const f = claudePerFile();
const { table } = f;
let listener: Server;
let port = 0;
let hits = 0;
const limits = runLimits(60_000, 60_000);

beforeAll(async () => {
  listener = createServer((_req, res) => res.end('LISTENER_SAYS_HI\n'));
  listener.on('connection', () => hits++);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as AddressInfo).port;
});
afterAll(() => {
  listener?.close();
});

const sandboxedTier = (allowedDomains: string[] = []): TierConfig => ({
  ...defaultConfig().tiers.sandboxed!,
  partialMessages: false,
  sandbox: { enabled: true, network: { allowedDomains } },
});

interface Ran {
  outcome: RunOutcome;
  asked: PermissionRequest[];
  cwd: string;
  /** Every tool_result text claude sent back to the API, in order. */
  toolResults: string;
}

// One prompt through ClaudeRun with the sandboxed tier's argv and env; permission requests would reach the host.
async function runSandboxed(
  prompt: string,
  opts: { tier?: TierConfig; settingsFile?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
  const tier = opts.tier ?? sandboxedTier();
  const cwd = mkdtempSync(join(tmpdir(), 'ct-sbx-'));
  const args = [
    ...buildClaudeArgs(tier, { mcpConfigPath: null, settingsFile: opts.settingsFile }),
    '--permission-prompt-tool=stdio',
  ];
  const env = { ...buildClaudeEnv(tier, f.env(), 0), CLAUDE_CODE_MAX_RETRIES: '0', ...opts.env };
  const run = new ClaudeRun({ bin: REAL_CLAUDE, args, cwd, env, maxLineBytes: 1 << 20 }, table, {
    interruptWaitMs: 1000,
    killGraceMs: 1000,
  });
  const asked: PermissionRequest[] = [];
  run.onPermission(async (req) => {
    asked.push(req);
    return { behavior: 'allow' };
  });
  const marker = `RUN-${Math.random().toString(36).slice(2)}`;
  run.send(`${marker} ${prompt}`, limits);
  const outcome = await run.outcome;
  await run.ended;
  const toolResults =
    f.api
      .messageRequests((r) => r.firstUserText.includes(marker))
      .map((r) => JSON.stringify(r.messages))
      .at(-1) ?? '';
  return { outcome, asked, cwd, toolResults };
}

const resultText = (r: Ran) =>
  r.outcome.kind === 'result'
    ? (r.outcome.result.result ?? '')
    : `no result: ${JSON.stringify(r.outcome).slice(0, 500)}`;
const denials = (r: Ran) =>
  r.outcome.kind === 'result' ? (r.outcome.result.permission_denials ?? []).map((d) => d.tool_name) : [];

describe('the sandboxed tier', () => {
  it('runs a Bash write inside the cwd with no permission request', async () => {
    // A tier without Bash in allowedTools would be asked about this command under acceptEdits (it has a network call);
    // the sandboxed tier asks nobody.
    const r = await runSandboxed('[[bash:echo inside > inside.txt; curl -s -m 2 http://127.0.0.1:9/; echo BASH_RAN]]');
    expect(resultText(r)).toContain('BASH_RAN');
    expect(readFileSync(join(r.cwd, 'inside.txt'), 'utf8')).toBe('inside\n');
    expect(r.asked).toEqual([]);
    expect(denials(r)).toEqual([]);
  });

  it(
    'refuses Bash writes outside the cwd (read-only file system), also when the model asks to leave the ' + 'sandbox',
    async () => {
      const outside = mkdtempSync(join(tmpdir(), 'ct-outside-'));
      const r = await runSandboxed(
        `[[bash:echo x > ${outside}/bash.txt; echo rc=$?]][[tool:Bash:{"command":"echo x ` +
          `> ${outside}/escape.txt; echo rc=$?","dangerouslyDisableSandbox":true}]]`,
      );
      expect(r.toolResults).toMatch(/bash\.txt: Read-only file system/);
      expect(r.toolResults).toMatch(/escape\.txt: Read-only file system/);
      expect(readdirSync(outside)).toEqual([]);
    },
  );

  it('refuses a Write tool call outside the cwd, and allows one inside', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'ct-outside-'));
    const writeOutside = `[[tool:Write:{"file_path":"${outside}/outside.txt","content":"x"}]]`;
    const writeInside = '[[tool:Write:{"file_path":"inside.txt","content":"y"}]]';
    const r = await runSandboxed(`${writeOutside}${writeInside}`);
    expect(existsSync(join(outside, 'outside.txt'))).toBe(false);
    expect(r.toolResults).toMatch(/blockWritesOutsideWorkingDirectories/);
    expect(readFileSync(join(r.cwd, 'inside.txt'), 'utf8')).toBe('y');
    expect(r.asked).toEqual([]);
  });

  it(
    'keeps Bash off the network: a listener on 127.0.0.1 is reached only when allow-listed, and only through ' +
      'the sandbox proxy',
    async () => {
      // curl honours the sandbox's proxy variables unless no_proxy (which lists 127.0.0.1) sends it direct; --noproxy
      // '' forces the proxy.
      const cmd =
        `curl -sS -m 5 --noproxy '' http://127.0.0.1:${port}/; echo proxied=$?; curl -sS -m 5 ` +
        `http://127.0.0.1:${port}/; echo direct=$?`;
      const before = hits;
      const closed = await runSandboxed(`[[bash:${cmd}]]`);
      expect(resultText(closed)).not.toContain('LISTENER_SAYS_HI');
      expect(closed.toolResults).toMatch(/host is not on the allow list/);
      expect(hits).toBe(before);
      const open = await runSandboxed(`[[bash:${cmd}]]`, { tier: sandboxedTier([`127.0.0.1:${port}`]) });
      expect(resultText(open)).toMatch(/LISTENER_SAYS_HI\s+proxied=0/);
      // A direct connection never leaves the sandbox's own network namespace, allow-listed or not.
      expect(resultText(open)).toMatch(/Failed to connect[\s\S]*direct=7/);
      expect(hits).toBe(before + 1);
    },
  );

  it(
    'WebFetch is outside the network allow-list: the tier denies it, and without that deny it reaches the ' +
      'listener',
    async () => {
      const fetch = `[[tool:WebFetch:{"url":"http://127.0.0.1:${port}/secret","prompt":"summarize"}]]`;
      const before = hits;
      const denied = await runSandboxed(fetch);
      expect(denied.toolResults).toMatch(/No such tool available: WebFetch|WebFetch/);
      expect(hits).toBe(before);
      // The same sandbox without the WebFetch deny (and without claude's claude.ai domain preflight, which is no
      // allow-list).
      const settings = sandboxSettings(sandboxedTier()) as { sandbox: unknown; permissions: Record<string, unknown> };
      const file = join(mkdtempSync(join(tmpdir(), 'ct-settings-')), 'settings.json');
      writeFileSync(
        file,
        JSON.stringify({
          ...settings,
          skipWebFetchPreflight: true,
          permissions: { ...settings.permissions, deny: [] },
        }),
        { mode: 0o600 },
      );
      await runSandboxed(fetch, { tier: { ...sandboxedTier(), disallowedTools: [] }, settingsFile: file });
      expect(hits).toBeGreaterThan(before);
    },
  );

  it(
    'is refused before claude starts when bwrap or socat is missing, naming the Debian packages; claude ' +
      'refuses too',
    async () => {
      expect(checkSandboxTools(process.env)).toMatchObject({ ok: true });
      // A PATH holding everything of /usr/bin except bwrap (Debian merges /bin into /usr/bin).
      const bin = mkdtempSync(join(tmpdir(), 'ct-nobwrap-'));
      for (const name of readdirSync('/usr/bin'))
        if (name !== 'bwrap') symlinkSync(join('/usr/bin', name), join(bin, name));
      const noBwrap = checkSandboxTools({ PATH: bin });
      expect(noBwrap).toMatchObject({ ok: false, missing: ['bwrap'], packages: ['bubblewrap'] });
      expect(!noBwrap.ok && noBwrap.message).toMatch(
        /bwrap not found on PATH; install the Debian package bubblewrap \(apt-get install -y bubblewrap\)/,
      );
      const empty = mkdtempSync(join(tmpdir(), 'ct-nothing-'));
      mkdirSync(join(empty, 'x'));
      const none = checkSandboxTools({ PATH: join(empty, 'x') });
      expect(!none.ok && none.message).toMatch(
        /install the Debian packages bubblewrap and socat \(apt-get install -y bubblewrap socat\)/,
      );
      // The second guard: claude itself, with failIfUnavailable, will not run Bash unconfined.
      const outside = mkdtempSync(join(tmpdir(), 'ct-outside-'));
      const r = await runSandboxed(`[[bash:echo x > ${outside}/unconfined.txt]]`, { env: { PATH: bin } });
      expect(readdirSync(outside)).toEqual([]);
      expect(r.outcome.kind === 'result' && r.outcome.result.is_error).toBe(true);
      expect(JSON.stringify(r.outcome)).toMatch(
        /Sandbox required but unavailable: .*bubblewrap \(bwrap\) not installed/,
      );
      expect(f.api.messageRequests((q) => q.firstUserText.includes('unconfined.txt'))).toEqual([]);
    },
  );
});
