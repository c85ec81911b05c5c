import { createRequire } from 'node:module';
import type { Logger } from 'pino';

// pino is CommonJS: required when a logger is made, not at import (the stdio server answers tools/list before that).
const require = createRequire(import.meta.url);

// stdout is the protocol: every log line goes to stderr (fd 2) as pino JSON.
export function createLogger(level: string = process.env.CLAUDE_TIERS_LOG_LEVEL ?? 'info'): Logger {
  const { pino } = require('pino') as typeof import('pino');
  return pino({ name: 'claude-tiers', level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
