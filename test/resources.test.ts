import { describe, expect, it } from 'vitest';
import { serverPerFile } from './support/per-file.js';
import { waitFor } from './support/harness.js';

const file = serverPerFile();

describe('task event logs as resources', () => {
  it(
    'deep_task links its event log; the template, the listing and a read all serve it; subscribers get ' +
      'updates while it runs',
    async () => {
      const updates: string[] = [];
      file.server.client.setNotificationHandler('notifications/resources/updated', (n) => {
        updates.push(n.params.uri);
      });
      const r = await file.server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: '[[bash:echo one; sleep 1]][[bash:echo two; sleep 1]]', wait_s: 0 },
      });
      const id = (r.structuredContent as { task_id: string }).task_id;
      const link = (r.content as Array<{ type: string; uri?: string; mimeType?: string }>).find(
        (c) => c.type === 'resource_link',
      );
      expect(link?.uri).toBe(`claude-tiers://tasks/${id}/events`);
      expect(link?.mimeType).toBe('application/x-ndjson');
      await file.server.client.subscribeResource({ uri: link!.uri! });
      const { resourceTemplates } = await file.server.client.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('claude-tiers://tasks/{task_id}/events');
      expect(await waitFor(() => updates.includes(link!.uri!), 20_000)).toBe(true);
      let v = (await file.server.client.callTool({ name: 'task_status', arguments: { task_id: id } }))
        .structuredContent as { final: boolean; cursor: number };
      while (!v.final)
        v = (
          await file.server.client.callTool({
            name: 'task_status',
            arguments: { task_id: id, wait_s: 10, cursor: v.cursor },
          })
        ).structuredContent as typeof v;
      const { resources } = await file.server.client.listResources();
      expect(resources.map((x) => x.uri)).toContain(link!.uri);
      const read = await file.server.client.readResource({ uri: link!.uri! });
      const lines = (read.contents[0] as { text: string }).text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string });
      expect(lines[0]?.type).toBe('system');
      expect(lines.at(-1)?.type).toBe('result');
      expect(lines.filter((l) => l.type === 'assistant').length).toBeGreaterThanOrEqual(2);
    },
  );

  it('reading an unknown task is a protocol error (invalid params), not an internal one', async () => {
    await expect(file.server.client.readResource({ uri: 'claude-tiers://tasks/t_nosuchtask/events' })).rejects.toThrow(
      /unknown resource/,
    );
    await expect(
      file.server.client.readResource({ uri: 'claude-tiers://tasks/t_nosuchtask/events' }),
    ).rejects.toMatchObject({ code: -32602 });
  });
});
