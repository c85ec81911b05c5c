import type { IncomingMessage, ServerResponse } from 'node:http';
import { TASK_STATES, ToolError, type TaskState, type Viewer } from '../engine.js';
import { identify, type HttpIdentity } from '../http/check-request.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import type { BoardStart, BoardTasks } from './board-tasks.js';
import { BoardSessions, sameOrigin, type BoardSession } from './board-sessions.js';
import { parsePosition } from './change-feed.js';
import type { OpsPanel } from './ops-panel.js';
import type { RegistryBoardTasks } from './registry-board-tasks.js';
import { webAsset } from './web-assets.js';

const MAX_BODY = 256 * 1024;
const HEARTBEAT_MS = 20_000;
const TASK_PATH = /^\/board\/api\/tasks\/(t_[A-Za-z0-9_-]{4,64})(?:\/(stream|log|answer|kill|merge))?$/;

// Every response of the board: its own origin only, never framed, never cached, never sniffed.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on form posts, and the login is one.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

// What the board serves from: the tasks seam, the operator panel, the tokens a login may paste, and the server facts
// its forms need (roots for cwd, tier names).
export interface BoardOptions {
  tasks: BoardTasks & Pick<RegistryBoardTasks, 'rows' | 'feed'>;
  ops: OpsPanel;
  tokens: ReadonlyArray<HttpIdentity>;
  roots: string[];
  tiers: string[];
  log: Logger;
  /** Behind a TLS proxy: the cookie is Secure. */
  secureCookie?: boolean;
}

// True for the paths the board answers (the page at /, its files and API under /board/, the icon browsers ask for).
export const isBoardPath = (path: string): boolean =>
  path === '/' || path === '/favicon.ico' || path.startsWith('/board/');

const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
  '<rect width="16" height="16" rx="3" fill="#0969da"/></svg>';

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra }).end(body);
}
const json = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) =>
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', extra);

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ToolError(`the request body is over ${MAX_BODY / 1024} KB`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
    throw new ToolError('send the body as application/json');
  const v = JSON.parse(await readBody(req)) as unknown;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ToolError('the body must be a JSON object');
  return v as Record<string, unknown>;
}

const str = (v: unknown, field: string, optional = false): string | undefined => {
  if (v === undefined || v === null || v === '') {
    if (optional) return undefined;
    throw new ToolError(`${field} is required`);
  }
  if (typeof v !== 'string') throw new ToolError(`${field} must be a string`);
  return v;
};

// The board's HTTP handler: login and logout, the page and its files, the JSON API, the SSE streams. Every action
// needs the session cookie, the same Origin and the session's CSRF token; what the viewer sees is its own tasks.
export function createBoardHandler(opts: BoardOptions): {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): void;
} {
  const sessions = new BoardSessions();
  // Open SSE streams, by session: a logout ends its session's streams too.
  const streams = new Map<AbortController, string>();

  const page = (res: ServerResponse, session: BoardSession | undefined, error?: string) => {
    if (session) {
      const html = webAsset('board.html');
      return html
        ? send(res, 200, html, 'text/html; charset=utf-8')
        : send(res, 500, 'the board was not built: run npm run build', 'text/plain');
    }
    const login = webAsset('login.html');
    if (!login) return send(res, 500, 'the board was not built: run npm run build', 'text/plain');
    send(
      res,
      error ? 401 : 200,
      login.replace('<!--error-->', error ? `<p class="error" role="alert">${error}</p>` : ''),
      'text/html; charset=utf-8',
    );
  };

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req)) return json(res, 403, { error: 'cross-origin request refused' });
    const form = new URLSearchParams(await readBody(req));
    const who = identify(`Bearer ${(form.get('token') ?? '').trim()}`, opts.tokens);
    if (!who) {
      opts.log.info('board login refused');
      return page(res, undefined, 'That token is not valid here.');
    }
    const { cookie } = sessions.open(who, opts.secureCookie ?? false);
    opts.log.info({ principal: who.principal }, 'board login');
    res.writeHead(303, { ...SECURITY_HEADERS, 'set-cookie': cookie, location: '/' }).end();
  }

  // The list feed: the whole list first (or what was missed since Last-Event-ID), then the changed rows.
  async function listStream(req: IncomingMessage, res: ServerResponse, session: BoardSession): Promise<void> {
    const viewer: Viewer = session.who;
    const ctl = sse(req, res, session);
    const since = parsePosition(
      (req.headers['last-event-id'] as string | undefined) ?? new URL(req.url!, 'http://x').searchParams.get('since'),
      opts.tasks.feed.boot,
    );
    try {
      for await (const change of opts.tasks.watch(viewer, since, ctl.signal)) {
        const id = `${opts.tasks.feed.boot}:${change.seq}`;
        if ('reset' in change) write(res, id, 'list', await opts.tasks.list(viewer, {}));
        else write(res, id, 'rows', { rows: opts.tasks.rows(viewer, change.ids) });
      }
    } finally {
      ctl.abort();
    }
  }

  // One task's feed: its view with the events after the cursor (Last-Event-ID is the cursor) at each change.
  async function taskStream(
    req: IncomingMessage,
    res: ServerResponse,
    session: BoardSession,
    taskId: string,
  ): Promise<void> {
    const viewer: Viewer = session.who;
    await opts.tasks.follow(viewer, taskId, 0);
    const ctl = sse(req, res, session);
    const given = Number(
      (req.headers['last-event-id'] as string | undefined) ??
        new URL(req.url!, 'http://x').searchParams.get('cursor') ??
        NaN,
    );
    let cursor = Number.isInteger(given) && given >= 0 ? given : undefined;
    let final = false;
    const push = async () => {
      const view = await opts.tasks.follow(viewer, taskId, cursor ?? 0);
      write(res, String(view.cursor), 'task', view);
      cursor = view.cursor;
      final = view.final;
    };
    const from = opts.tasks.feed.seq;
    try {
      await push();
      // A finished task's stream stays open and quiet (a closed one would make the browser reconnect every second).
      for await (const change of opts.tasks.watch(viewer, from, ctl.signal)) {
        if (!final && 'ids' in change && change.ids.includes(taskId)) await push();
      }
    } finally {
      ctl.abort();
    }
  }

  function sse(req: IncomingMessage, res: ServerResponse, session: BoardSession): AbortController {
    const ctl = new AbortController();
    streams.set(ctl, session.id);
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
      streams.delete(ctl);
      res.end();
    });
    return ctl;
  }

  function write(res: ServerResponse, id: string, event: string, data: unknown): void {
    res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string, session: BoardSession): Promise<void> {
    const viewer: Viewer = session.who;
    const url = new URL(req.url!, 'http://x');
    const m = TASK_PATH.exec(path);
    if (req.method === 'GET') {
      if (path === '/board/api/me')
        return json(res, 200, {
          principal: viewer.principal,
          admin: viewer.admin,
          csrf: session.csrf,
          roots: opts.roots,
          tiers: opts.tiers,
          version: VERSION,
          merge: !!opts.tasks.merge,
        });
      if (path === '/board/api/tasks') {
        const state = (url.searchParams.get('state') ?? '')
          .split(',')
          .filter((s): s is TaskState => (TASK_STATES as readonly string[]).includes(s));
        return json(
          res,
          200,
          await opts.tasks.list(viewer, {
            state,
            tier: url.searchParams.get('tier') ?? undefined,
            text: url.searchParams.get('q') ?? undefined,
          }),
        );
      }
      if (path === '/board/api/stream') return listStream(req, res, session);
      if (path === '/board/api/ops') return json(res, 200, await opts.ops.view(viewer));
      if (m && !m[2]) return json(res, 200, await opts.tasks.get(viewer, m[1]!));
      if (m?.[2] === 'stream') return taskStream(req, res, session, m[1]!);
      if (m?.[2] === 'log')
        return send(res, 200, await opts.tasks.rawLog(viewer, m[1]!), 'text/plain; charset=utf-8', {
          'content-disposition': `inline; filename="${m[1]}.jsonl"`,
        });
      return json(res, 404, { error: `not found: ${path}` });
    }
    if (req.method !== 'POST') return json(res, 405, { error: 'use GET or POST' }, { allow: 'GET, POST' });
    // Actions: same Origin and the session's CSRF token, or nothing happens.
    if (!sameOrigin(req)) return json(res, 403, { error: 'cross-origin request refused' });
    if (!sessions.csrfOk(session, req))
      return json(res, 403, { error: 'missing or wrong CSRF token (X-CSRF-Token); reload the board' });
    if (path === '/board/logout') {
      for (const [ctl, id] of streams) if (id === session.id) ctl.abort();
      return json(res, 200, { ok: true }, { 'set-cookie': sessions.close(session) });
    }
    const body = await jsonBody(req);
    const done = (r: { ok: boolean; text: string; structured?: Record<string, unknown> }) =>
      json(res, r.ok ? 200 : 400, r.ok ? r : { ...r, error: r.text });
    if (path === '/board/api/tasks') {
      const isolation = str(body.isolation, 'isolation', true);
      if (isolation && isolation !== 'none' && isolation !== 'worktree')
        throw new ToolError('isolation must be "none" or "worktree"');
      const input: BoardStart = {
        prompt: str(body.prompt, 'prompt')!,
        tier: str(body.tier, 'tier', true),
        cwd: str(body.cwd, 'cwd', true),
        isolation: isolation as BoardStart['isolation'],
        continue_task_id: str(body.continue_task_id, 'continue_task_id', true),
      };
      return done(await opts.tasks.start(viewer, input));
    }
    if (m?.[2] === 'answer') {
      const decision = str(body.decision, 'decision');
      if (decision !== 'allow' && decision !== 'deny') throw new ToolError('decision must be "allow" or "deny"');
      return done(
        await opts.tasks.answer(
          viewer,
          m[1]!,
          str(body.request_id, 'request_id')!,
          decision,
          str(body.message, 'message', true),
        ),
      );
    }
    if (m?.[2] === 'kill') return done(await opts.tasks.kill(viewer, m[1]!));
    if (m?.[2] === 'merge') {
      if (!opts.tasks.merge) return json(res, 501, { error: 'this server has no merge_task yet' });
      return done(await opts.tasks.merge(viewer, m[1]!, body.strategy === 'squash' ? 'squash' : 'merge'));
    }
    return json(res, 404, { error: `not found: ${path}` });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    void (async () => {
      if (path === '/board/board.js')
        return send(res, 200, webAsset('board.js') ?? '', 'text/javascript; charset=utf-8');
      if (path === '/board/board.css') return send(res, 200, webAsset('board.css') ?? '', 'text/css; charset=utf-8');
      if (path === '/favicon.ico' || path === '/board/favicon.svg') return send(res, 200, FAVICON, 'image/svg+xml');
      if (path === '/board/login' && req.method === 'POST') return login(req, res);
      const session = sessions.of(req);
      if (path === '/') return req.method === 'GET' ? page(res, session) : json(res, 405, { error: 'use GET' });
      if (!session) return json(res, 401, { error: 'log in first (the board at /)' });
      await api(req, res, path, session);
    })().catch((err: unknown) => {
      const known = err instanceof ToolError || err instanceof SyntaxError;
      if (!known) opts.log.error({ err }, 'board request failed');
      if (res.headersSent) return void res.end();
      json(res, known ? 400 : 500, { error: known ? (err as Error).message : 'internal error; see the server log' });
    });
  }

  return {
    handle,
    close: () => {
      for (const ctl of streams.keys()) ctl.abort();
      opts.ops.close();
    },
  };
}
