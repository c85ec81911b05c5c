import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serverPerFile } from '../support/per-file.js';
import {
  argvRecordingClaude,
  claudeChildren,
  configFile,
  sleep,
  startServer,
  textOf,
  waitFor,
} from '../support/harness.js';

// Long text never travels in argv (issue 11, finding 8): a system prompt reaches claude through a 0600 file.
const file = serverPerFile();

describe('argv', () => {
  it('a 50,000-character CJK system prompt reaches the model, and no claude argv carries it', async () => {
    const marker = `SYSMARK${Date.now()}`;
    const systemPrompt = `${marker} ${'漢字かな交じり文'.repeat(6249)}`.slice(0, 50_000);
    const r = await file.server.client.callTool({
      name: 'quick_answer',
      arguments: { prompt: 'hi [[text:fine]]', system_prompt: systemPrompt },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toBe('fine');
    const cjk = '漢字かな交じり文漢字';
    expect(
      file.api.messageRequests((q) => q.systemText.includes(marker) && q.systemText.includes(cjk)).length,
    ).toBeGreaterThan(0);
  });

  it('a running task shows neither its prompt nor its system prompt in /proc/PID/cmdline', async () => {
    const marker = `SECRETSYS${Date.now()}`;
    const r = await file.server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:echo x; sleep 3]] ${marker}`, system_prompt: `keep ${marker} private`, wait_s: 0 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const pids = await waitFor(() => {
      const kids = claudeChildren(file.server.pid);
      return kids.length ? kids : undefined;
    }, 15_000);
    for (const pid of pids!) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(marker);
    await file.server.client.callTool({
      name: 'kill_task',
      arguments: { task_id: (r.structuredContent as { task_id: string }).task_id },
    });
  });

  // Issue 19, item 15: the speed tier's own system prompt went in argv as --system-prompt=<text>.
  it(
    "the operator's tier system prompt reaches the model from a 0600 file; no claude argv carries it, a warm " +
      "spare's neither",
    async () => {
      const marker = `OPSYS${Date.now()}`;
      const rec = argvRecordingClaude(mkdtempSync(join(tmpdir(), 'ct-argv-')));
      const config = configFile({
        tiers: { comprehensive: { mcpConfig: null }, speed: { systemPrompt: `${marker} answer briefly` } },
      });
      const s = await startServer(file.api, {
        spares: 1,
        env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_CLAUDE_BIN: rec.bin },
      });
      try {
        type Stats = { spares: { ready: number } };
        const ready = async () =>
          ((await s.client.callTool({ name: 'server_stats', arguments: {} })).structuredContent as Stats).spares
            .ready === 1;
        expect(await waitFor(ready, 30_000, 250), 'a warm spare of the speed tier starts').toBe(true);
        await sleep(1500); // let it finish its start-up
        const r = await s.client.callTool({
          name: 'quick_answer',
          arguments: { prompt: `hi ${Date.now()} [[text:fine]]` },
        });
        expect(r.isError, textOf(r)).toBeFalsy();
        expect(textOf(r)).toBe('fine');
        expect((r.structuredContent as { warm?: boolean }).warm, 'served by the warm spare').toBe(true);
        expect(file.api.messageRequests((q) => q.systemText.includes(marker)).length).toBeGreaterThan(0);
        const runs = rec.runs();
        expect(runs.length).toBeGreaterThan(0);
        for (const argv of runs) expect(argv.join(' ')).not.toContain(marker);
        const files = runs
          .flat()
          .filter((a) => a.startsWith('--system-prompt-file='))
          .map((a) => a.slice('--system-prompt-file='.length));
        expect(files.length).toBe(runs.length);
        expect(readFileSync(files[0]!, 'utf8')).toContain(marker);
        expect(statSync(files[0]!).mode & 0o777).toBe(0o600);
      } finally {
        await s.close();
      }
    },
  );
});
