import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Viewer } from '../engine.js';
import type { BoardTasks } from './board-tasks.js';
import type { BoardSession } from './board-sessions.js';
import { parsePosition } from './change-feed.js';
import type { RegistryBoardTasks } from './registry-board-tasks.js';
import { SECURITY_HEADERS } from './security-headers.js';

const HEARTBEAT_MS = 20_000;

// The board's Server-Sent Event streams: the list feed and one task's feed, each resuming from Last-Event-ID, all
// ended by their session's logout or the server's shutdown.
export class BoardStreams {
  private readonly streams = new Map<AbortController, string>();

  constructor(private readonly tasks: BoardTasks & Pick<RegistryBoardTasks, 'rows' | 'feed'>) {}

  // Ends the streams of one session (its logout).
  endSession(sessionId: string): void {
    for (const [ctl, id] of this.streams) if (id === sessionId) ctl.abort();
  }

  closeAll(): void {
    for (const ctl of this.streams.keys()) ctl.abort();
  }

  // The list feed: the whole list first (or what was missed since Last-Event-ID), then the changed rows.
  async list(req: IncomingMessage, res: ServerResponse, session: BoardSession): Promise<void> {
    const viewer: Viewer = session.who;
    const ctl = this.open(req, res, session);
    const since = parsePosition(
      (req.headers['last-event-id'] as string | undefined) ?? new URL(req.url!, 'http://x').searchParams.get('since'),
      this.tasks.feed.boot,
    );
    try {
      for await (const change of this.tasks.watch(viewer, since, ctl.signal)) {
        const id = `${this.tasks.feed.boot}:${change.seq}`;
        if ('reset' in change) this.write(res, id, 'list', await this.tasks.list(viewer, {}));
        else this.write(res, id, 'rows', { rows: this.tasks.rows(viewer, change.ids) });
      }
    } finally {
      ctl.abort();
    }
  }

  // One task's feed: its view with the events after the cursor (Last-Event-ID is the cursor) at each change.
  async task(req: IncomingMessage, res: ServerResponse, session: BoardSession, taskId: string): Promise<void> {
    const viewer: Viewer = session.who;
    await this.tasks.follow(viewer, taskId, 0);
    const ctl = this.open(req, res, session);
    const given = Number(
      (req.headers['last-event-id'] as string | undefined) ??
        new URL(req.url!, 'http://x').searchParams.get('cursor') ??
        NaN,
    );
    let cursor = Number.isInteger(given) && given >= 0 ? given : undefined;
    let final = false;
    // The view after the cursor.
    const push = async () => {
      const view = await this.tasks.follow(viewer, taskId, cursor ?? 0);
      this.write(res, String(view.cursor), 'task', view);
      cursor = view.cursor;
      final = view.final;
    };
    const from = this.tasks.feed.seq;
    try {
      await push();
      // A finished task's stream stays open and quiet (a closed one would make the browser reconnect every second).
      // A reset (the feed could not say what changed) may hide a change of this task, events or not (progress, cost):
      // send it again (resets are rare; the page draws the same view twice at worst).
      for await (const change of this.tasks.watch(viewer, from, ctl.signal)) {
        if (final) continue;
        if ('reset' in change) await push();
        else if (change.ids.includes(taskId)) await push();
      }
    } finally {
      ctl.abort();
    }
  }

  private open(req: IncomingMessage, res: ServerResponse, session: BoardSession): AbortController {
    const ctl = new AbortController();
    this.streams.set(ctl, session.id);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const end = () => ctl.abort();
    req.once('close', end);
    res.once('close', end);
    ctl.signal.addEventListener('abort', () => {
      clearInterval(beat);
      this.streams.delete(ctl);
      res.end();
    });
    return ctl;
  }

  private write(res: ServerResponse, id: string, event: string, data: unknown): void {
    res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
