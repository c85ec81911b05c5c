import { Redis, type RedisOptions } from 'ioredis';
import { ToolError } from '../errors.js';

// A Redis URL fit to show in a message or a log: its password replaced.
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable Redis URL)';
  }
}

// Connection options from a redis:// or rediss:// URL. A command fails at once while Redis is unreachable (no
// offline queue: a caller gets a clear error, not a hang), and the connection keeps retrying in the background.
export function redisOptions(url: string, blocking = false): RedisOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`redis url: ${shownUrl(url)} is not a redis:// or rediss:// URL`);
  const db = Number.parseInt(u.pathname.slice(1) || '0', 10);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number.parseInt(u.port || '6379', 10),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isFinite(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    connectTimeout: 2000,
    retryStrategy: (attempt: number) => Math.min(200 * attempt, 2000),
    // BullMQ's blocking connection must retry forever; ours fail fast.
    ...(blocking ? { maxRetriesPerRequest: null } : { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
  };
}

// One connection, with its errors logged once per outage (ioredis emits one per retry).
export function openRedis(url: string, onOutage: (message: string) => void, onReady: () => void): Redis {
  const redis = new Redis(redisOptions(url));
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    onOutage(err.message);
  });
  redis.on('ready', () => {
    down = false;
    onReady();
  });
  return redis;
}

// Errors that say Redis is not there (as opposed to a bug of ours, which keeps its own message).
const UNREACHABLE = /Stream isn't writeable|Connection is closed|connection (?:wait|connecting|connect|reconnecting|close|end)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|LOADING|MaxRetriesPerRequest|max retries/i;

// What a caller is told when the shared store cannot be reached: what failed, what keeps going, what to do.
export function unreachable(url: string, err: unknown): Error {
  if (err instanceof ToolError) return err;
  if (!UNREACHABLE.test(`${(err as Error)?.name} ${(err as Error)?.message}`)) return err as Error;
  const why = (err as Error)?.message ?? String(err);
  return new ToolError(
    `the shared task store (Redis at ${shownUrl(url)}) is unreachable: ${why}. Tasks already running keep running and write their results when it is back; retry then`,
  );
}
