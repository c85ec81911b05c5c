import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { ROOT, startServer, textOf, type StartedServer } from './support/harness.js';

// Issue 12: MCP prompts (slash commands) with task-id completion, and images sent to claude as image blocks.
let api: ScriptedApi;
let s: StartedServer;
let pics: string;
// The smallest valid PNG: one transparent pixel.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

beforeAll(async () => {
  api = await startScriptedApi();
  pics = mkdtempSync(join(tmpdir(), 'ct-pics-'));
  writeFileSync(join(pics, 'dot.png'), PNG);
  writeFileSync(join(pics, 'notes.txt'), 'not an image');
  s = await startServer(api, { env: { CLAUDE_TIERS_ROOTS: `${ROOT}:${pics}` } });
});
afterAll(async () => {
  await s?.close();
  await api?.close();
});

const imageBlocksAt = (tag: string) =>
  api.requests
    .filter((r) => r.firstUserText.includes(tag))
    .flatMap((r) =>
      (r.messages as Array<{ content: unknown }>).flatMap((m) => (Array.isArray(m.content) ? m.content : [])),
    )
    .filter((b) => (b as { type?: string }).type === 'image') as Array<{
    source: { media_type: string; data: string };
  }>;

describe('images', () => {
  it('a file inside the roots and base64 data reach the API as image blocks', async () => {
    const tag = `IMG_${Date.now()}`;
    const r = await s.client.callTool({
      name: 'quick_answer',
      arguments: {
        prompt: `what is this? ${tag} [[text:a dot]]`,
        images: [{ path: join(pics, 'dot.png') }, { data: PNG.toString('base64'), mimeType: 'image/png' }],
      },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const blocks = imageBlocksAt(tag);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks.every((b) => b.source.media_type === 'image/png' && b.source.data === PNG.toString('base64'))).toBe(
      true,
    );
    const deepTag = `DEEPIMG_${Date.now()}`;
    const d = await s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `${deepTag} [[text:seen]]`, images: [{ path: join(pics, 'dot.png') }], wait_s: 20 },
    });
    expect((d.structuredContent as { state: string }).state).toBe('succeeded');
    expect(imageBlocksAt(deepTag).length).toBeGreaterThan(0);
  });

  it(
    'a path outside the roots, a file of another type, or a bad mimeType is refused with the field ' + 'named',
    async () => {
      const before = api.requests.length;
      const outside = await s.client.callTool({
        name: 'quick_answer',
        arguments: { prompt: 'x', images: [{ path: '/etc/hostname.png' }] },
      });
      expect(textOf(outside)).toMatch(/images\[0\]\.path: .* outside the allowed roots/);
      const txt = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: 'x', images: [{ path: join(pics, 'notes.txt') }] },
      });
      expect(textOf(txt)).toMatch(/images\[0\]\.path: .* is not a \.png, \.jpg, \.gif or \.webp file/);
      const mime = await s.client.callTool({
        name: 'quick_answer',
        arguments: { prompt: 'x', images: [{ data: 'AAAA', mimeType: 'image/tiff' }] },
      });
      expect(textOf(mime)).toMatch(/mimeType/);
      expect(api.requests.length).toBe(before);
    },
  );
});

describe('prompts', () => {
  it("lists quick and deep, renders them, and completes continue_task_id from the caller's tasks", async () => {
    const { prompts } = await s.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['quick', 'deep']);
    const got = await s.client.getPrompt({ name: 'deep', arguments: { prompt: 'refactor the parser' } });
    const text = (got.messages[0]!.content as { text: string }).text;
    expect(text).toMatch(/deep_task/);
    expect(text).toContain('refactor the parser');
    await expect(s.client.getPrompt({ name: 'nope', arguments: { prompt: 'x' } })).rejects.toThrow(/unknown prompt/);
    const id = (await s.client.callTool({ name: 'deep_task', arguments: { prompt: '[[text:done]]', wait_s: 10 } }))
      .structuredContent as { task_id: string };
    const done = await s.client.complete({
      ref: { type: 'ref/prompt', name: 'deep' },
      argument: { name: 'continue_task_id', value: id.task_id.slice(0, 6) },
    });
    expect(done.completion.values).toContain(id.task_id);
  });
});
