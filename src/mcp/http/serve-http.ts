import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createMcpHandler, localhostAllowedOrigins, originValidationResponse } from '@modelcontextprotocol/server';
import type { Config } from '../../config/schema.js';
import { createEngine } from '../../create-engine.js';
import type { Engine } from '../../engine.js';
import { OnDemand } from '../../on-demand.js';
import { createLogger, type Logger } from '../../log.js';
import { createServer } from '../server.js';
import { installWatchdog } from '../../watchdog.js';
import { isBoardPath } from '../../board/board-http.js';
import { mountBoard, type BoardHandler } from '../../board/mount-board.js';
import {
  checkRequest,
  checkTarget,
  identify,
  refusalBody,
  type HttpIdentity,
  type RequestRules,
} from './check-request.js';
import {
  describeListenError,
  isExposed,
  ListenError,
  parseListenAddress,
  type ListenAddress,
} from './listen-address.js';
import { sendWebResponse, toWebRequest } from './node-adapter.js';
import { METRICS_PATH, openMetricsPort, withMetrics } from '../../metrics/http.js';
import { TAP_PATH } from '../../notify/one-tap.js';
import { publishEventLogUpdates } from '../resources.js';

const json = (status: number, body: unknown, extra: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...extra } });

function listen(server: HttpServer, address: ListenAddress): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError(describeListenError(err, address))));
    server.listen(address.port, address.host, () => resolve());
  });
}

// The MCP handler, once the engine exists.
type McpFetch = (request: Request) => Promise<Response>;

// Every request is checked (target, Host, token) before any MCP code runs; what passes gets the Origin check, then the
// handler. The board (at / and /board/) is checked for target and Host here, and for its own session in its handler.
function handleRequests(
  server: HttpServer,
  rules: RequestRules,
  origins: string[],
  mcp: Promise<McpFetch>,
  log: Logger,
  board?: Promise<BoardHandler>,
): void {
  server.on('request', (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const boardPath = board && isBoardPath(path) && !checkTarget(req, rules);
    if (boardPath) {
      void board.then((b) => b.handle(req, res)).catch(() => res.writeHead(503).end());
      return;
    }
    const refused = checkRequest(req, rules);
    if (refused) {
      log.info({ status: refused.status, method: req.method }, 'http request refused');
      res
        .writeHead(refused.status, { 'content-type': 'application/json', ...refused.headers })
        .end(refusalBody(refused));
      return;
    }
    void (async () => {
      let request: Request;
      try {
        request = toWebRequest(req, res);
      } catch {
        await sendWebResponse(json(400, { error: 'malformed request' }), res);
        return;
      }
      // A one-tap page checks its own Origin (a browser posts its confirm form with Origin: null under no-referrer);
      // the path is canonical here (checkTarget), so it is the path the router sees.
      const tap = rules.publicPrefixes?.some((p) => path.startsWith(p));
      const response = (tap ? undefined : originValidationResponse(request, origins)) ?? (await (await mcp)(request));
      await sendWebResponse(response, res);
    })().catch((err: unknown) => {
      log.error({ err }, 'http request failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
}

// `claude-tiers serve --http HOST:PORT`: the same tools over Streamable HTTP at /mcp, bearer token required, one shared
// registry. Returns -1 while serving, or 2 after one line on stderr when the address is bad or cannot be listened on.
export async function runHttpServer(config: Config, listenValue: string): Promise<number> {
  let address: ListenAddress;
  try {
    address = parseListenAddress(listenValue);
  } catch (err) {
    process.stderr.write(`claude-tiers: ${(err as Error).message}\n`);
    return 2;
  }
  const log = createLogger(config.logLevel);
  const generated = !config.httpToken;
  const token = config.httpToken ?? randomBytes(24).toString('base64url');
  const allowedHosts = new Set(
    [address.urlHost, 'localhost', '127.0.0.1', '[::1]', ...config.allowedHosts].map((h) => h.toLowerCase()),
  );
  const origins = [...localhostAllowedOrigins(), ...config.allowedHosts];
  const server = createHttpServer();
  let resolveMcp!: (f: McpFetch) => void;
  const mcp = new Promise<McpFetch>((r) => (resolveMcp = r));
  // The main token owns the "default" principal; httpTokens add one principal (or admin) each.
  const tokens: HttpIdentity[] = [
    { token, principal: 'token:default', admin: false },
    ...config.httpTokens.map((t) => ({ token: t.token, principal: `token:${t.name}`, admin: t.admin })),
  ];
  let resolveBoard!: (b: BoardHandler) => void;
  const board = new Promise<BoardHandler>((r) => (resolveBoard = r));
  handleRequests(
    server,
    { path: '/mcp', allowedHosts, tokens, getPaths: [METRICS_PATH], publicPrefixes: [TAP_PATH] },
    origins,
    mcp,
    log,
    board,
  );
  // Listen before the engine exists: a bad port costs nothing and leaves the state dir untouched.
  try {
    await listen(server, address);
  } catch (err) {
    process.stderr.write(`claude-tiers: ${(err as Error).message}\n`);
    return 2;
  }
  const metricsPort = await openMetricsPort(config.metrics);
  if (!metricsPort) {
    server.close();
    return 2;
  }
  let engine: Engine;
  let engineReady!: OnDemand<Engine>;
  try {
    engine = await createEngine(config, log);
    engine.registry.serveQueue();
    engineReady = OnDemand.of(engine);
  } catch (err) {
    server.close();
    throw err;
  }
  // Each request is served as its token's principal (tasks, rate limits); a session id, when the client keeps one,
  // makes it a client of its own for tasks/*.
  const factory = (ctx: { era?: 'legacy' | 'modern'; requestInfo?: Request }) => {
    const who = identify(ctx.requestInfo?.headers.get('authorization'), tokens) ?? {
      principal: 'token:unknown',
      admin: false,
    };
    const session = ctx.requestInfo?.headers.get('mcp-session-id');
    const sessionTag = session ? `:${createHash('sha256').update(session).digest('hex').slice(0, 12)}` : '';
    const clientId = `http:${who.principal}${sessionTag}`;
    return createServer(config, engineReady, {
      clientId,
      rateKey: `http:${who.principal}`,
      viewer: { principal: who.principal, admin: who.admin },
      // A fresh instance per request, whose response ends with it: event log updates reach a 2026-07-28 client on
      // its subscriptions/listen stream (published below); a 2025-era one has no stream to get them on.
      resourceUpdates: ctx.era === 'modern' ? 'listen' : 'none',
    }).server;
  };
  const handler = createMcpHandler(factory, {
    onerror: (err: Error) => log.warn({ err: err.message }, 'mcp http error'),
  } as never);
  const stopUpdates = publishEventLogUpdates(engine.registry, handler.notify);
  const tap = engine.tap;
  const served = withMetrics(engine.metrics, (request) => handler.fetch(request));
  // The one-tap pages passed checkRequest without a token (their link is the grant); everything else had one.
  resolveMcp((request) =>
    new URL(request.url).pathname.startsWith(TAP_PATH)
      ? (tap?.(request) ??
        Promise.resolve(json(404, { error: 'not found: one-tap links need notify in the server config' })))
      : served(request),
  );
  metricsPort.serve(engine.metrics);
  const boardHandler = mountBoard(engine, config, { tokens, log, rateKey: (v) => `http:${v.principal}` });
  resolveBoard(boardHandler);
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  const url = `http://${address.urlHost}:${port}/mcp`;
  engine.notifier?.setLinkBase(`http://${address.urlHost}:${port}`);
  const boardUrl = `http://${address.urlHost}:${port}/`;
  process.stderr.write(
    `claude-tiers serving Streamable HTTP at ${url} · board ` +
      `at ${boardUrl}${
        generated
          ? ` · bearer token (generated, shown once; set httpToken or CLAUDE_TIERS_HTTP_TOKEN to keep one): ${token}`
          : ' · bearer token from config/CLAUDE_TIERS_HTTP_TOKEN'
      }\n`,
  );
  if (isExposed(address.host)) {
    process.stderr.write(
      `claude-tiers: warning: listening on ${address.urlHost}, reachable from other machines over plain ` +
        'HTTP; remote clients need a reverse proxy with TLS in front, and the names they use in allowedHosts ' +
        `(your config; now: ${config.allowedHosts.join(', ') || 'none, so only localhost names are accepted'})\n`,
    );
  }
  // Warm spares start after the server answers, so they never delay start-up.
  setTimeout(() => engine.warmSpares(), 50).unref();
  installWatchdog({
    log: () => log,
    killAllSync: () => engine.killAllSync(),
    shutdownMs: config.limits.shutdownMs,
    watchStdin: false,
    shutdown: async (reason) => {
      boardHandler.close();
      stopUpdates();
      server.close();
      server.closeAllConnections();
      await engine.dispose(reason);
      await Promise.allSettled([handler.close(), metricsPort.close()]);
    },
  });
  return -1;
}
