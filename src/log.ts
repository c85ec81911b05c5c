import { pino, type Logger } from 'pino';

// stdout is the protocol: every log line goes to stderr (fd 2) as pino JSON.
export function createLogger(level: string = process.env.CLAUDE_TIERS_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'claude-tiers', level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
