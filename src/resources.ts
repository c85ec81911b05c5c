import { existsSync, readFileSync, statSync } from 'node:fs';
import { ProtocolError, ProtocolErrorCode, type Server } from '@modelcontextprotocol/server';
import type { Engine, Viewer } from './engine.js';
import { EVENTS_MIME as MIME, EVENTS_TEMPLATE, eventsLink, taskIdOfUri as idOf } from './tasks/event-links.js';
import { isFinal } from './tasks/types.js';

const MAX_READ = 1024 * 1024;
const UPDATE_EVERY_MS = 500;

// Each task's event log as a resource (template + listing + read), with updates to subscribers while it runs.
export function registerTaskResources(server: Server, engine: Engine, viewer: Viewer): () => void {
  const { registry } = engine;
  const subscriptions = new Map<string, () => void>();
  server.registerCapabilities({ resources: { subscribe: true } });
  server.setRequestHandler('resources/templates/list', async () => ({
    resourceTemplates: [{ uriTemplate: EVENTS_TEMPLATE, name: 'task-events', title: 'Task event log', mimeType: MIME, description: 'claude\'s raw stream-json events of a task (JSONL), as written to disk' }],
  }));
  server.setRequestHandler('resources/list', async () => ({
    resources: registry.list({ limit: 50, viewer }).map((r) => ({ ...eventsLink(r.id), name: `events of ${r.id} (${r.state})` })),
  }));
  server.setRequestHandler('resources/read', async (request) => {
    const uri = request.params.uri;
    const id = idOf(uri);
    if (!id || !registry.visible(id, viewer)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown resource ${uri}: expected ${EVENTS_TEMPLATE.replace('{task_id}', '<task_id>')} of an existing task`);
    const path = registry.eventsPath(id);
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
    const record = id ? registry.visible(id, viewer) : undefined;
    if (id && record && !isFinal(record.state) && !subscriptions.has(uri)) {
      let timer: NodeJS.Timeout | undefined;
      const send = () => {
        timer = undefined;
        void server.notification({ method: 'notifications/resources/updated', params: { uri } }).catch(() => {});
      };
      const off = registry.onChange(id, () => {
        timer ??= setTimeout(send, UPDATE_EVERY_MS);
        if (isFinal(registry.peek(id)?.state ?? 'lost')) {
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
