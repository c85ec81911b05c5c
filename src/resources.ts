import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Server } from '@modelcontextprotocol/server';
import type { Engine } from './engine.js';
import { isFinal } from './tasks/types.js';

const PREFIX = 'claude-tiers://tasks/';
const MIME = 'application/x-ndjson';
const MAX_READ = 1024 * 1024;
const UPDATE_EVERY_MS = 500;

// The URI of a task's event log resource.
export const eventsUri = (id: string): string => `${PREFIX}${id}/events`;

// A resource_link to a task's event log, for tool results.
export const eventsLink = (id: string) => ({ uri: eventsUri(id), name: `events of ${id}`, mimeType: MIME, description: 'claude\'s raw stream-json events of this task (JSONL)' });

function idOf(uri: string): string | undefined {
  const m = /^claude-tiers:\/\/tasks\/(t_[A-Za-z0-9_-]{4,64})\/events$/.exec(uri);
  return m?.[1];
}

// Each task's event log as a resource (template + listing + read), with updates to subscribers while it runs.
export function registerTaskResources(server: Server, engine: Engine): () => void {
  const { registry } = engine;
  const subscriptions = new Map<string, () => void>();
  server.registerCapabilities({ resources: { subscribe: true } });
  server.setRequestHandler('resources/templates/list', async () => ({
    resourceTemplates: [{ uriTemplate: `${PREFIX}{task_id}/events`, name: 'task-events', title: 'Task event log', mimeType: MIME, description: 'claude\'s raw stream-json events of a task (JSONL), as written to disk' }],
  }));
  server.setRequestHandler('resources/list', async () => ({
    resources: registry.list({ limit: 50 }).map((r) => ({ ...eventsLink(r.id), name: `events of ${r.id} (${r.state})` })),
  }));
  server.setRequestHandler('resources/read', async (request) => {
    const uri = request.params.uri;
    const id = idOf(uri);
    if (!id || !registry.getRecord(id)) throw new Error(`unknown resource ${uri}: expected ${PREFIX}<task_id>/events of an existing task`);
    const path = registry.store.eventsPath(id);
    let text = '';
    if (existsSync(path)) {
      const size = statSync(path).size;
      const all = readFileSync(path);
      text = all.subarray(Math.max(0, size - MAX_READ)).toString('utf8');
      if (size > MAX_READ) text = text.slice(text.indexOf('\n') + 1);
    }
    return { contents: [{ uri, mimeType: MIME, text }] };
  });
  server.setRequestHandler('resources/subscribe', async (request) => {
    const uri = request.params.uri;
    const id = idOf(uri);
    const task = id ? registry.getLive(id) : undefined;
    if (task && !isFinal(task.record.state) && !subscriptions.has(uri)) {
      let timer: NodeJS.Timeout | undefined;
      const send = () => {
        timer = undefined;
        void server.notification({ method: 'notifications/resources/updated', params: { uri } }).catch(() => {});
      };
      const off = task.onChange(() => {
        timer ??= setTimeout(send, UPDATE_EVERY_MS);
        if (isFinal(task.record.state)) {
          off();
          subscriptions.delete(uri);
        }
      });
      subscriptions.set(uri, () => {
        off();
        if (timer) clearTimeout(timer);
      });
    }
    return {};
  });
  server.setRequestHandler('resources/unsubscribe', async (request) => {
    subscriptions.get(request.params.uri)?.();
    subscriptions.delete(request.params.uri);
    return {};
  });
  return () => {
    for (const off of subscriptions.values()) off();
    subscriptions.clear();
  };
}
