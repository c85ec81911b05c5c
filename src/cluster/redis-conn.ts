import { Redis, type RedisOptions } from 'ioredis';
import { ToolError } from '../errors.js';
import { shownUrl } from './shown-url.js';

// Messages about a connection show its URL this way (it lives in its own module, which the CLI loads without ioredis).
export { shownUrl };

const COMMAND_TIMEOUT_MS = 2000;

// Connection options from a redis:// or rediss:// URL. A command fails at once while Redis is unreachable (no
// offline queue: a caller gets a clear error, not a hang), and the connection keeps retrying in the background.
export function redisOptions(url: string, blocking = false): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`redis.url: ${shownUrl(url)} is not a valid URL; expected redis://[user:password@]host:port[/db]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error(`redis url: ${shownUrl(url)} is not a redis:// or rediss:// URL`);
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
    // BullMQ's blocking connection must retry forever; ours fail fast, a hung Redis included (a command times out).
    ...(blocking
      ? { maxRetriesPerRequest: null }
      : { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS }),
  };
}

// One connection, with its errors logged once per outage (ioredis emits one per retry) and the last one kept, so a
// caller hears why (a wrong password is not an outage to wait out).
export function openRedis(
  url: string,
  onOutage: (message: string) => void,
  onReady: () => void,
): Redis & { lastError?: string } {
  const redis: Redis & { lastError?: string } = new Redis(redisOptions(url));
  let down = false;
  redis.on('error', (err: Error) => {
    redis.lastError = err.message;
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
const UNREACHABLE = new RegExp(
  "Stream isn't writeable|Connection is closed|connection (?:wait|connecting|connect|reconnecting|close|end)|" +
    'Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|LOADING|WRONGPASS|NOAUTH|' +
    'MaxRetriesPerRequest|max retries',
  'i',
);

// What a caller is told when the shared store cannot be reached: what failed, what keeps going, what to do.
export function unreachable(url: string, err: unknown): Error {
  if (err instanceof ToolError) return err;
  if (!UNREACHABLE.test(`${(err as Error)?.name} ${(err as Error)?.message}`)) return err as Error;
  const why = (err as Error)?.message ?? String(err);
  if (/WRONGPASS|NOAUTH/.test(why))
    return new ToolError(
      `the shared task store (Redis at ${shownUrl(url)}) refuses this server: ${why}; fix the password in ` +
        `the Redis URL (--redis, CLAUDE_TIERS_REDIS_URL) and restart the server`,
    );
  return new ToolError(
    `the shared task store (Redis at ${shownUrl(url)}) is unreachable: ${why}. Tasks already running keep ` +
      `running and write their results when it is back; retry then`,
  );
}
