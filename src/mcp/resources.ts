import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { ProtocolError, ProtocolErrorCode, type Server } from '@modelcontextprotocol/server';
import type { Engine, Viewer } from '../engine.js';
import type { OnDemand } from '../on-demand.js';
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
// Event logs one connection may follow at once (each holds a watcher on a running task).
const MAX_SUBSCRIPTIONS = 100;

// The last `max` bytes of a file, from its first whole line: only those are read, however long the file grew.
async function readTail(path: string, max: number): Promise<string> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const length = Math.min(size, max);
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await file.read(buf, got, length - got, size - length + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const text = buf.subarray(0, got).toString('utf8');
    return size > max ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    await file.close();
  }
}

// One connection's subscriptions: event log uri -> stop following it.
export type Subscriptions = Map<string, () => void>;

// How a server instance tells a client that an event log changed: `subscribe` (resources/subscribe, answered on the
// instance's own connection: stdio), `listen` (2026-07-28 HTTP: subscriptions/listen streams, fed by
// publishEventLogUpdates), `none` (2025-era HTTP: each request is a stateless instance whose response has ended and
// there is no GET stream, so nothing could carry an update; subscribe is not offered at all).
export type ResourceUpdates = 'subscribe' | 'listen' | 'none';

// Over HTTP, every change of a task's event log goes to the handler's listen streams (each delivers the uris it asked
// for), at most one update per log every UPDATE_EVERY_MS. Returns the stop.
export function publishEventLogUpdates(
  tasks: Pick<Engine['registry'], 'watchAll'>,
  notify: { resourceUpdated(uri: string): void },
): () => void {
  const pending = new Map<string, NodeJS.Timeout>();
  const off = tasks.watchAll((id) => {
    if (pending.has(id)) return;
    const timer = setTimeout(() => {
      pending.delete(id);
      notify.resourceUpdated(eventsLink(id).uri);
    }, UPDATE_EVERY_MS);
    pending.set(id, timer.unref());
  });
  return () => {
    off();
    for (const timer of pending.values()) clearTimeout(timer);
    pending.clear();
  };
}

// Each task's event log as a resource (template + listing + read), with updates to subscribers while it runs when
// the instance serves resources/subscribe (see ResourceUpdates).
export function registerTaskResources(
  server: Server,
  ready: OnDemand<Engine>,
  viewer: Viewer,
  updates: ResourceUpdates = 'subscribe',
): () => void {
  const subscriptions: Subscriptions = new Map();
  // The engine is built while the server already answers (start-up); every handler that needs it waits for it.
  let engine!: Engine;
  const ensure = async () => (engine ??= await ready.get());
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
        `the raw event log of task ${id} is kept by the server that ran it ` +
          `(on ${rec.owner.host ?? 'another machine'}); task_status shows its events on any server`,
      );
    }
    return { contents: [{ uri, mimeType: MIME, text: existsSync(path) ? await readTail(path, MAX_READ) : '' }] };
  });
  if (updates !== 'subscribe') return () => {};
  server.setRequestHandler('resources/subscribe', async (request) => {
    const { tasks } = await ensure();
    const uri = request.params.uri;
    const id = idOf(uri);
    const record = id ? tasks.visible(id, viewer, await tasks.record(id).catch(() => undefined)) : undefined;
    if (id && record && !isFinal(record.state) && !subscriptions.has(uri)) {
      if (subscriptions.size >= MAX_SUBSCRIPTIONS)
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `too many subscriptions: this connection already follows ${subscriptions.size} task event ` +
            `logs, the most one may; unsubscribe (resources/unsubscribe) from ones it no longer needs first`,
        );
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
