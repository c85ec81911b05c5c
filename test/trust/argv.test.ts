import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serverPerFile } from '../support/per-file.js';
import { claudeChildren, textOf, waitFor } from '../support/harness.js';

// Long text never travels in argv (issue 11, finding 8): a system prompt reaches claude through a 0600 file.
const file = serverPerFile();

describe('argv', () => {
  it('a 50,000-character CJK system prompt reaches the model, and no claude argv carries it', async () => {
    const marker = `SYSMARK${Date.now()}`;
    const systemPrompt = `${marker} ${'漢字かな交じり文'.repeat(6249)}`.slice(0, 50_000);
    const r = await file.server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'hi [[text:fine]]', system_prompt: systemPrompt } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toBe('fine');
    expect(file.api.messageRequests((q) => q.systemText.includes(marker) && q.systemText.includes('漢字かな交じり文漢字')).length).toBeGreaterThan(0);
  });

  it('a running task shows neither its prompt nor its system prompt in /proc/PID/cmdline', async () => {
    const marker = `SECRETSYS${Date.now()}`;
    const r = await file.server.client.callTool({ name: 'deep_task', arguments: { prompt: `[[bash:echo x; sleep 3]] ${marker}`, system_prompt: `keep ${marker} private`, wait_s: 0 } });
    expect(r.isError, textOf(r)).toBeFalsy();
    const pids = await waitFor(() => {
      const kids = claudeChildren(file.server.pid);
      return kids.length ? kids : undefined;
    }, 15_000);
    for (const pid of pids!) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(marker);
    await file.server.client.callTool({ name: 'kill_task', arguments: { task_id: (r.structuredContent as { task_id: string }).task_id } });
  });
});
