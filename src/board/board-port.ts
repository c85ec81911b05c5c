import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Config } from '../config/schema.js';
import { LOCAL_PRINCIPAL, type Engine } from '../engine.js';
import { checkTarget } from '../mcp/http/check-request.js';
import { sendWebResponse, toWebRequest } from '../mcp/http/node-adapter.js';
import { TAP_PATH } from '../notify/one-tap.js';
import type { Logger } from '../log.js';
import type { OnDemand } from '../on-demand.js';
import { isBoardPath } from './board-http.js';
import { mountBoard, type BoardHandler } from './mount-board.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

// `serve --board-port PORT` on a stdio server: the board on 127.0.0.1 only, for the local user's tasks. Its login token
// is httpToken from the config when set, else one generated and printed once. Undefined when it cannot listen.
export async function openBoardPort(
  port: number,
  ready: OnDemand<Engine>,
  config: Config,
  log: Logger,
): Promise<{ close(): void } | undefined> {
  const token = config.httpToken ?? randomBytes(24).toString('base64url');
  let board: BoardHandler | undefined;
  let tap: Engine['tap'];
  const server: Server = createServer((req, res) => {
    const refused = checkTarget(req, { allowedHosts: LOOPBACK });
    if (refused)
      return void res
        .writeHead(refused.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: refused.error }));
    const path = (req.url ?? '').split('?')[0]!;
    // One-tap approval links of notify are served here too on a stdio server (the link is their only grant).
    if (path.startsWith(TAP_PATH) && tap) {
      const answer = tap;
      return void (async () => sendWebResponse(await answer(toWebRequest(req, res)), res))().catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    }
    if (!isBoardPath(path)) return void res.writeHead(404).end('not found: the board is at /\n');
    // A visit before the engine started (stdio starts it after tools/list, or within a second) starts it.
    if (!board) return void (ready.start(), res.writeHead(503, { 'retry-after': '1' }).end('starting\n'));
    board.handle(req, res);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(
      `claude-tiers: --board-port ${port}: cannot listen (${
        e.code === 'EADDRINUSE' ? 'the port is in use; choose another, or 0 for a free one' : (e.code ?? e.message)
      })\n`,
    );
    return undefined;
  }
  const bound = server.address();
  const shown = typeof bound === 'object' && bound ? bound.port : port;
  // The board needs the engine but does not start it: it comes up with the engine (a visit starts it, see above).
  void ready.begun.then(async () => {
    const engine = await ready.get().catch(() => undefined);
    if (!engine) return;
    tap = engine.tap;
    engine.notifier?.setLinkBase(`http://127.0.0.1:${shown}`);
    board = mountBoard(engine, config, {
      tokens: [{ token, principal: LOCAL_PRINCIPAL, admin: false }],
      log,
      rateKey: () => `board:${LOCAL_PRINCIPAL}`,
    });
    process.stderr.write(
      `claude-tiers board at http://127.0.0.1:${shown}/ · login token: ${
        config.httpToken ? 'httpToken from config/CLAUDE_TIERS_HTTP_TOKEN' : `${token} (generated, shown once)`
      }\n`,
    );
  });
  return {
    close: () => {
      board?.close();
      server.close();
      server.closeAllConnections();
    },
  };
}
