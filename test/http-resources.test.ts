import { appendFileSync, mkdtempSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, serverEnv, startHttpServer, textOf, waitFor } from './support/harness.js';
import { apiPerFile } from './support/per-file.js';

// Over HTTP every request is served by a fresh server instance whose response ends with it: event log updates go out
// on 2026-07-28 subscriptions/listen streams, and 2025-era clients are not offered resources/subscribe (it never
// delivered; its per-client cap could be dodged with a new session id per request). A read serves only a log's tail.
const file = apiPerFile();
const TOKEN = 'res-token-0123456789abcdefghij';

type Server = Awaited<ReturnType<typeof startHttpServer>>;
let server: Server;
let stateDir: string;
let client: Client;

const structured = <T>(r: unknown) => (r as { structuredContent: T }).structuredContent;
const eventsUri = (id: string) => `claude-tiers://tasks/${id}/events`;

async function deepTask(prompt: string): Promise<string> {
  const r = await client.callTool({ name: 'deep_task', arguments: { prompt, wait_s: 0 } });
  expect(r.isError, textOf(r)).toBeFalsy();
  return structured<{ task_id: string }>(r).task_id;
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ct-res-'));
  const config = configFile({
    tiers: { comprehensive: { mcpConfig: null } },
    limits: { ratePerMinute: 100_000, rateBurst: 1000 },
  });
  const { env } = await serverEnv(file.api, {
    stateDir,
    env: {
      CLAUDE_TIERS_CONFIG: config,
      CLAUDE_TIERS_HTTP_TOKEN: TOKEN,
    },
  });
  server = await startHttpServer(env);
  file.keep(server);
  client = new Client({ name: 'resources-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    }),
  );
});
afterAll(async () => {
  await client?.close();
});

describe('task event logs over HTTP', () => {
  it('a read serves only the tail of a log far larger than memory should hold (a 3 GiB sparse file)', async () => {
    const id = await deepTask('[[text:short answer]]');
    let v = structured<{ final: boolean; cursor: number }>(
      await client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 30 } }),
    );
    while (!v.final)
      v = structured(
        await client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 10, cursor: v.cursor } }),
      );
    const path = join(stateDir, 'tasks', id, 'events.jsonl');
    truncateSync(path, 3 * 1024 ** 3);
    const tail = '{"type":"tail","n":1}\n{"type":"tail","n":2}\n';
    appendFileSync(path, `\n${tail}`);
    expect(statSync(path).size).toBeGreaterThan(3 * 1024 ** 3);
    const read = await client.readResource({ uri: eventsUri(id) });
    const text = (read.contents[0] as { text: string }).text;
    // The last MiB, from its first whole line: the lines after the 3 GiB of zeros.
    expect(text).toBe(tail);
  });

  it('a 2025-era client is not offered resources/subscribe: no stream could carry its updates', async () => {
    // Each request is served by a stateless instance whose response has ended, and GET (the 2025 stream) is 405.
    expect(client.getServerCapabilities()?.resources?.subscribe).toBeFalsy();
    const id = await deepTask('[[text:short answer]]');
    await expect(client.subscribeResource({ uri: eventsUri(id) })).rejects.toThrow();
  });

  it('a 2026-07-28 client gets the updates of a running task through subscriptions/listen', async () => {
    const modern = new Client({ name: 'resources-listen', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
      }),
    );
    try {
      expect(modern.getServerCapabilities()?.resources?.subscribe).toBe(true);
      const updates: string[] = [];
      modern.setNotificationHandler('notifications/resources/updated', (n) => void updates.push(n.params.uri));
      const start = await modern.callTool({
        name: 'deep_task',
        arguments: { prompt: '[[bash:echo one; sleep 1]][[bash:echo two; sleep 1]][[text:done]]', wait_s: 0 },
      });
      const id = structured<{ task_id: string }>(start).task_id;
      const other = await deepTask('[[text:not followed]]');
      const listening = await modern.listen({ resourceSubscriptions: [eventsUri(id)] });
      try {
        expect(await waitFor(() => updates.includes(eventsUri(id)), 60_000)).toBe(true);
        // Only the logs it asked for.
        expect(updates).not.toContain(eventsUri(other));
      } finally {
        await listening.close();
      }
    } finally {
      await modern.close();
    }
  });
});
