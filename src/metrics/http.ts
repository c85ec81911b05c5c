import type { Server } from 'node:http';
import { hostName } from '../mcp/http/check-request.js';
import type { Metrics } from './metrics.js';

// The path Prometheus scrapes.
export const METRICS_PATH = '/metrics';
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

// The exposition as a web Response (Prometheus text, the registry's content type).
export async function metricsResponse(metrics: Metrics): Promise<Response> {
  return new Response(await metrics.text(), {
    status: 200,
    headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' },
  });
}

// Wraps the MCP handler of `serve --http`: GET /metrics (the request already passed the token check) gets the metrics.
export function withMetrics(
  metrics: Metrics,
  next: (request: Request) => Promise<Response>,
): (request: Request) => Promise<Response> {
  return (request) =>
    request.method === 'GET' && new URL(request.url).pathname === METRICS_PATH
      ? metricsResponse(metrics)
      : next(request);
}

// An unauthenticated metrics listener on a loopback port (config `metrics.port`, `--metrics-port`).
export interface MetricsPort {
  readonly port?: number;
  serve(metrics: Metrics): void;
  close(): Promise<void>;
}

const NONE: MetricsPort = { serve: () => {}, close: async () => {} };

// Opens the loopback metrics port before the engine exists (a taken port costs nothing); nothing is opened without a
// configured port. Undefined after one line on stderr when it cannot listen. Until serve() it answers 503.
export async function openMetricsPort(
  options: { port?: number; host?: string } | undefined,
): Promise<MetricsPort | undefined> {
  if (options?.port === undefined) return NONE;
  const host = options.host ?? '127.0.0.1';
  let metrics: Metrics | undefined;
  // node:http only when a port is configured: it is not loaded before the stdio server answers tools/list.
  const { createServer } = await import('node:http');
  const server: Server = createServer((req, res) => {
    // Loopback names only: a web page cannot read the metrics through a rebound DNS name.
    if (!LOOPBACK_NAMES.has(hostName(req.headers.host) ?? ''))
      return void res.writeHead(403).end('loopback names only\n');
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== METRICS_PATH)
      return void res.writeHead(404).end(`not found: GET ${METRICS_PATH}\n`);
    if (!metrics) return void res.writeHead(503).end('starting\n');
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics!.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => resolve());
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EADDRINUSE' ? 'the port is in use; choose another, or 0 for a free one' : (e.code ?? e.message);
    process.stderr.write(`claude-tiers: metrics port ${host}:${options.port}: cannot listen (${why})\n`);
    return undefined;
  }
  server.unref();
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : options.port;
  process.stderr.write(`claude-tiers metrics at http://${host}:${port}${METRICS_PATH} (loopback, no token)\n`);
  return {
    port,
    serve: (m) => void (metrics = m),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
