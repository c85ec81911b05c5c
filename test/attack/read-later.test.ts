import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeChildren, textOf, waitFor } from '../support/harness.js';
import { serverPerFile } from '../support/per-file.js';

// The speed tier runs without the path guard (no node process per file-tool call): its file tools are kept off the
// state dir by one Read deny rule for all of it, fixed when claude starts. A warm spare starts before the files it
// must not read exist: what is made in the state dir after it started (another token's task) stays hidden too, from
// Read, and from a Grep or Glob over a folder that holds the state dir.
const parent = mkdtempSync(join(tmpdir(), 'ct-later-'));
const file = serverPerFile({ spares: 1, stateDir: join(parent, 'state') });

const call = (tool: string, input: unknown) => `[[tool:${tool}:${JSON.stringify(input)}]]`;

describe('a warm spare of the speed tier (no path guard)', () => {
  it('cannot read, grep or glob a folder made in the state dir after it started', async () => {
    // The spare is up (its claude has read its settings) before the folder exists.
    await waitFor(() => claudeChildren(file.server.pid).length >= 1 || undefined, 60_000);
    const secret = `LATER_SECRET_${Math.random().toString(36).slice(2)}`;
    const dir = join(file.server.stateDir, 'tasks', `t_later${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'record.json'), JSON.stringify({ prompt: secret }));
    const answer = (prompt: string) =>
      file.server.client.callTool({ name: 'quick_answer', arguments: { prompt: `${prompt} x` } });
    const ask = async (prompt: string) => textOf(await answer(prompt));
    const first = await answer(call('Read', { file_path: join(dir, 'record.json') }));
    // Served by the spare that started before the folder was made.
    expect((first.structuredContent as { warm?: boolean }).warm).toBe(true);
    const read = textOf(first);
    const grep = await ask(call('Grep', { pattern: secret, path: parent, output_mode: 'content' }));
    const glob = await ask(call('Glob', { pattern: '**/record.json', path: parent }));
    for (const text of [read, grep, glob]) expect(text).not.toMatch(new RegExp(`${secret}|t_later`));
  }, 120_000);
});
