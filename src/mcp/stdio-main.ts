import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Config } from '../config/schema.js';
import type { Engine } from '../engine.js';
import { createLogger, type Logger } from '../log.js';
import { createServer } from './server.js';
import { launchCommand } from '../launch-command.js';
import { startupLine } from '../startup-line.js';
import { installWatchdog } from '../watchdog.js';
import { openMetricsPort } from '../metrics/http.js';
import { OnDemand } from '../on-demand.js';

// The engine starts once the client has its tool list, or this long after the handshake (a client that lists no
// tools: its tools/list, sent right after the handshake, is answered first), or at the latest ENGINE_LATEST_START_MS
// after serving began (no client yet): startup line, spares, recovery of an earlier server's tasks.
const ENGINE_AFTER_HANDSHAKE_MS = 50;
const ENGINE_LATEST_START_MS = 1000;

// Someone ran the server by hand in a terminal: it is not hung, it waits for a client.
export const terminalHint = (me = launchCommand()): string =>
  'claude-tiers: waiting for an MCP client on stdin (this is the server an MCP client starts; Ctrl-C stops it). ' +
  `To try it: ${me} ask "a question"; to add it to a client: ${me} setup claude-code`;

// Serves MCP on stdio until stdin closes or a signal arrives; returns -1 (the watchdog exits the process). The server
// answers at once; the engine (task registry, spawner, metrics) is loaded and built once tools/list is answered (or on
// first need, or shortly after the handshake), and calls wait for it.
export async function runStdioServer(config: Config, boardPort?: number): Promise<number> {
  // pino is loaded at the first log line or with the engine (after tools/list), so a plain stdio server answers
  // before it loads; with --board-port it is loaded at once, as the board is opened before stdio is served.
  let logger: Logger | undefined;
  const log = () => (logger ??= createLogger(config.logLevel));
  const metricsPort = await openMetricsPort(config.metrics);
  if (!metricsPort) return 2;
  let engine: Engine | undefined;
  const ready = new OnDemand(() => import('../create-engine.js').then((m) => m.createEngine(config, log())));
  const servers: Array<() => Promise<void>> = [];
  let stopping = false;
  const startEngine = () => {
    if (!stopping) ready.start();
  };
  const openBoard = async (port: number) =>
    (await import('../board/board-port.js')).openBoardPort(port, ready, config, log());
  const board = boardPort === undefined ? undefined : await openBoard(boardPort);
  if (boardPort !== undefined && !board) return 2;
  const handle = serveStdio(
    () => {
      const { server, dispose } = createServer(config, ready, { onToolsListed: startEngine, listEarly: true });
      server.oninitialized = () => void setTimeout(startEngine, ENGINE_AFTER_HANDSHAKE_MS);
      servers.push(dispose);
      return server;
    },
    { onerror: (err) => log().warn({ err: err.message }, 'mcp transport error') },
  );
  const latest = setTimeout(startEngine, ENGINE_LATEST_START_MS);
  installWatchdog({
    log,
    killAllSync: () => engine?.killAllSync(),
    shutdownMs: config.limits.shutdownMs,
    shutdown: async (reason) => {
      stopping = true;
      clearTimeout(latest);
      board?.close();
      // An engine never started is not started now just to be disposed of.
      if (ready.started) await (await ready.get().catch(() => undefined))?.dispose(reason);
      await Promise.allSettled([handle.close(), metricsPort.close(), ...servers.map((d) => d())]);
    },
  });
  try {
    await ready.begun;
    engine = await ready.get();
    // In a cluster this server also takes tasks from the shared queue.
    engine.registry.serveQueue();
  } catch (err) {
    // No engine, no server: one line and a non-zero exit, rather than a server whose every call fails.
    log().error({ err: (err as Error).message }, 'cannot start the engine');
    process.stderr.write(`claude-tiers: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  // A server told to stop while it was starting (stdin closed at once) says nothing more about being ready.
  if (stopping) return -1;
  metricsPort.serve(engine.metrics);
  process.stderr.write(`${startupLine(engine)}\n`);
  if (process.stdin.isTTY) process.stderr.write(`${terminalHint()}\n`);
  // Warm spares start after the server answers, so they never delay start-up.
  setTimeout(() => engine?.warmSpares(), 50).unref();
  return -1;
}
