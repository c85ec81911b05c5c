import type { IncomingMessage, ServerResponse } from 'node:http';
import { TASK_STATES, ToolError, type TaskState, type Viewer } from '../engine.js';
import { identify, type HttpIdentity } from '../mcp/http/check-request.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import type { BoardStart, BoardTasks } from './board-tasks.js';
import { BoardSessions, sameOrigin, type BoardSession } from './board-sessions.js';
import type { OpsPanel } from './ops-panel.js';
import type { RegistryBoardTasks } from './registry-board-tasks.js';
import { webAsset } from './web-assets.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { BoardStreams } from './board-streams.js';

const MAX_BODY = 256 * 1024;
const TASK_PATH = /^\/board\/api\/tasks\/(t_[A-Za-z0-9_-]{4,64})(?:\/(stream|log|answer|kill|merge))?$/;

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
  const streams = new BoardStreams(opts.tasks);

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
      if (path === '/board/api/stream') return streams.list(req, res, session);
      if (path === '/board/api/ops') return json(res, 200, await opts.ops.view(viewer));
      if (m && !m[2]) return json(res, 200, await opts.tasks.get(viewer, m[1]!));
      if (m?.[2] === 'stream') return streams.task(req, res, session, m[1]!);
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
      streams.endSession(session.id);
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
      streams.closeAll();
      opts.ops.close();
    },
  };
}
