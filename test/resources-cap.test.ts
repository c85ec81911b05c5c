import { describe, expect, it } from 'vitest';
import { configFile } from './support/harness.js';
import { serverPerFile } from './support/per-file.js';

// Over stdio a connection follows task event logs with resources/subscribe, each a watcher on a running task: a cap
// bounds them (over HTTP, updates go on subscriptions/listen streams instead: test/http-resources.test.ts).
const CAP = 100;
const file = serverPerFile({
  env: {
    CLAUDE_TIERS_CONFIG: configFile({
      tiers: { comprehensive: { mcpConfig: null } },
      limits: { ratePerMinute: 100_000, rateBurst: 1000 },
    }),
    CLAUDE_TIERS_MAX_RUNNING: '1',
    CLAUDE_TIERS_MAX_QUEUE: '200',
  },
});
const eventsUri = (id: string) => `claude-tiers://tasks/${id}/events`;

async function deepTask(prompt: string): Promise<string> {
  const r = await file.server.client.callTool({ name: 'deep_task', arguments: { prompt, wait_s: 0 } });
  return (r.structuredContent as { task_id: string }).task_id;
}

describe('resources/subscribe over stdio', () => {
  it(`one connection follows at most ${CAP} event logs; an unsubscribe frees one`, async () => {
    const client = file.server.client;
    // One task holds the only running slot (its model never answers); the others wait in the queue (not final).
    const ids = [await deepTask('[[hang]]')];
    for (let i = 0; i < CAP; i++) ids.push(await deepTask(`[[text:queued ${i}]]`));
    for (const id of ids.slice(0, CAP)) await client.subscribeResource({ uri: eventsUri(id) });
    // Subscribing again to one it follows is no new subscription.
    await client.subscribeResource({ uri: eventsUri(ids[0]!) });
    const over = eventsUri(ids[CAP]!);
    await expect(client.subscribeResource({ uri: over })).rejects.toThrow(
      /too many subscriptions.*100 task event logs/,
    );
    await expect(client.subscribeResource({ uri: over })).rejects.toMatchObject({ code: -32602 });
    await client.unsubscribeResource({ uri: eventsUri(ids[1]!) });
    await client.subscribeResource({ uri: over });
    await expect(client.subscribeResource({ uri: eventsUri(ids[1]!) })).rejects.toThrow(/too many subscriptions/);
  });
});
