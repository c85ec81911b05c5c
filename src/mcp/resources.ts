import { existsSync, readFileSync, statSync } from 'node:fs';
import { ProtocolError, ProtocolErrorCode, type Server } from '@modelcontextprotocol/server';
import type { Engine, Viewer } from '../engine.js';
import {
  DIFF_MIME,
  DIFF_TEMPLATE,
  EVENTS_MIME as MIME,
  EVENTS_TEMPLATE,
  eventsLink,
  taskIdOfDiffUri,
  taskIdOfUri as idOf,
} from '../tasks/event-links.js';
import { isFinal } from '../tasks/types.js';
import { BOARD_APP_URI, boardAppContents, boardAppListing } from '../board/app-resource.js';

const MAX_READ = 1024 * 1024;
const UPDATE_EVERY_MS = 500;

// Each task's event log as a resource (template + listing + read), with updates to subscribers while it runs.
export function registerTaskResources(server: Server, ready: Promise<Engine>, viewer: Viewer): () => void {
  // The engine is built while the server already answers (start-up); every handler that needs it waits for it.
  let engine!: Engine;
  const ensure = async () => (engine ??= await ready);
  const subscriptions = new Map<string, () => void>();
  server.setRequestHandler('resources/templates/list', async () => ({
    resourceTemplates: [
      {
        uriTemplate: EVENTS_TEMPLATE,
        name: 'task-events',
        title: 'Task event log',
        mimeType: MIME,
        description: "claude's raw stream-json events of a task (JSONL), as written to disk",
      },
      {
        uriTemplate: DIFF_TEMPLATE,
        name: 'task-diff',
        title: 'Task diff',
        mimeType: DIFF_MIME,
        description: "an isolated task's changes on its branch, against its base commit",
      },
    ],
  }));
  server.setRequestHandler('resources/list', async () => ({
    resources: [
      boardAppListing,
      ...(await (await ensure()).tasks.list({ limit: 50, viewer })).map((r) => ({
        ...eventsLink(r.id),
        name: `events of ${r.id} (${r.state})`,
      })),
    ],
  }));
  server.setRequestHandler('resources/read', async (request) => {
    const { tasks } = await ensure();
    const uri = request.params.uri;
    if (uri === BOARD_APP_URI) return { contents: [boardAppContents()] };
    const diffOf = taskIdOfDiffUri(uri);
    if (diffOf) return { contents: [{ uri, mimeType: DIFF_MIME, text: await taskDiff(engine, diffOf, viewer) }] };
    const id = idOf(uri);
    // Read again first: in a cluster the task may be another server's, not yet seen here.
    const rec = id ? await tasks.record(id).catch(() => undefined) : undefined;
    if (!id || !rec || !tasks.visible(id, viewer, rec))
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `unknown resource ${uri}: expected ${EVENTS_TEMPLATE.replace('{task_id}', '<task_id>')} of an existing task`,
      );
    const path = tasks.eventsPath(id);
    if (!existsSync(path) && rec.state !== 'queued' && rec.owner.serverId !== (await ensure()).serverId) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `the raw event log of task ${id} is kept by the server that ran it (on ${rec.owner.host ?? 'another machine'}); task_status shows its events on any server`,
      );
    }
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
    const { tasks } = await ensure();
    const uri = request.params.uri;
    const id = idOf(uri);
    const record = id ? tasks.visible(id, viewer, await tasks.record(id).catch(() => undefined)) : undefined;
    if (id && record && !isFinal(record.state) && !subscriptions.has(uri)) {
      let timer: NodeJS.Timeout | undefined;
      const send = () => {
        timer = undefined;
        void server.notification({ method: 'notifications/resources/updated', params: { uri } }).catch(() => {});
      };
      const off = tasks.watch(id, () => {
        timer ??= setTimeout(send, UPDATE_EVERY_MS);
        if (isFinal(tasks.peek(id)?.state ?? 'lost')) {
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

// The diff of an isolated task's branch (base..head), read from the repository it ran on.
async function taskDiff(engine: Engine, id: string, viewer: Viewer): Promise<string> {
  const record = engine.tasks.visible(id, viewer);
  const w = record?.worktreeSummary;
  if (!record?.worktree || !w?.branch)
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `no diff for ${id}: only a finished isolated task that changed files has one`,
    );
  const { git } = await import('../isolation/git.js');
  return git(record.worktree.repoRoot, [
    'diff',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    `${w.base_commit}..${w.head_commit}`,
  ]);
}
