import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createMcpHandler, hostHeaderValidationResponse, originValidationResponse, localhostAllowedOrigins } from '@modelcontextprotocol/server';
import type { Config } from '../config/schema.js';
import { createEngine } from '../engine.js';
import { createLogger } from '../log.js';
import { createServer } from '../server.js';
import { installWatchdog } from '../watchdog.js';
import { sendWebResponse, toWebRequest } from './node-adapter.js';

const json = (status: number, body: unknown, extra: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...extra } });

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

// `claude-tiers serve --http HOST:PORT`: the same tools over Streamable HTTP at /mcp, bearer token required, one shared registry.
export async function runHttpServer(config: Config, listen: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--http wants HOST:PORT, e.g. 127.0.0.1:8765 (got ${listen})`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  const log = createLogger(config.logLevel);
  const engine = await createEngine(config, log);
  let token = config.httpToken ?? env.CLAUDE_TIERS_HTTP_TOKEN;
  const generated = !token;
  token ??= randomBytes(24).toString('base64url');
  // Rate limits and audit records are per token.
  const clientId = `http:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
  const handler = createMcpHandler(() => createServer(engine, { clientId }).server, { onerror: (err: Error) => log.warn({ err: err.message }, 'mcp http error') } as never);
  const allowedHosts = [...new Set([host, 'localhost', '127.0.0.1', '[::1]', '::1'])];
  const server = createHttpServer((req, res) => {
    void (async () => {
      const request = toWebRequest(req, res);
      let response: Response;
      const path = new URL(request.url).pathname;
      if (path !== '/mcp') response = json(404, { error: 'not found: the MCP endpoint is /mcp' });
      else if (!tokenMatches(req.headers.authorization, token!)) response = json(401, { error: 'missing or wrong bearer token (Authorization: Bearer <token>)' }, { 'www-authenticate': 'Bearer' });
      else response = hostHeaderValidationResponse(request, allowedHosts) ?? originValidationResponse(request, localhostAllowedOrigins()) ?? (await handler.fetch(request));
      await sendWebResponse(response, res);
    })().catch((err: unknown) => {
      log.error({ err }, 'http request failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/mcp`;
  process.stderr.write(`claude-tiers serving Streamable HTTP at ${url}${generated ? ` · bearer token (shown once): ${token}` : ' · bearer token from config/CLAUDE_TIERS_HTTP_TOKEN'}\n`);
  installWatchdog({
    log,
    killAllSync: () => engine.procs.killAllSync(),
    shutdownMs: config.limits.shutdownMs,
    watchStdin: false,
    shutdown: async (reason) => {
      server.close();
      server.closeAllConnections();
      await engine.dispose(reason);
      await handler.close();
    },
  });
  return -1;
}
