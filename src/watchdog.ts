import type { Logger } from './log.js';

const HARD_EXIT_MARGIN_MS = 400;

// Ends the server when stdin closes or on SIGTERM/SIGINT/SIGHUP: a clean shutdown, bounded so the process exits within
// 2 s. `log` makes (or returns) the logger at its first line: the stdio server loads pino only after tools/list.
export function installWatchdog(options: {
  log: () => Logger;
  shutdown: (reason: string) => Promise<void>;
  killAllSync: () => void;
  shutdownMs: number;
  watchStdin?: boolean;
}): void {
  const killAllClaudeSync = options.killAllSync;
  let stopping = false;
  const stop = (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    options.log().info({ reason }, 'shutting down');
    const hard = setTimeout(() => {
      options.log().warn('shutdown took too long; killing what is left');
      killAllClaudeSync();
      process.exit(code);
    }, options.shutdownMs + HARD_EXIT_MARGIN_MS);
    hard.unref();
    options
      .shutdown(reason)
      .catch((err: unknown) => options.log().error({ err }, 'shutdown failed'))
      .finally(() => {
        killAllClaudeSync();
        process.exit(code);
      });
  };
  if (options.watchStdin !== false) {
    process.stdin.once('end', () => stop('stdin closed'));
    process.stdin.once('close', () => stop('stdin closed'));
  }
  process.once('SIGTERM', () => stop('SIGTERM', 143));
  process.once('SIGINT', () => stop('SIGINT', 130));
  process.once('SIGHUP', () => stop('SIGHUP', 129));
  process.on('exit', () => killAllClaudeSync());
  process.on('uncaughtException', (err) => options.log().error({ err }, 'uncaught exception (server keeps running)'));
  process.on('unhandledRejection', (err) => options.log().error({ err }, 'unhandled rejection (server keeps running)'));
}
