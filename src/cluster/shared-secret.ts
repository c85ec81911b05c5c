import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

const KEY_BYTES = 32;

// A secret every server of a cluster signs with (the one-tap links' key), so a link one server sent works on any of
// them: the first server to start makes it (SET NX), every server then reads the one that won. It lives beside the
// tasks it grants answers to: whoever can read this Redis can already answer them.
export async function sharedSecret(redis: Redis, prefix: string, name: string): Promise<Buffer> {
  const key = `${prefix}:secret:${name}`;
  await redis.set(key, randomBytes(KEY_BYTES).toString('base64'), 'NX');
  const stored = await redis.get(key);
  const secret = stored ? Buffer.from(stored, 'base64') : Buffer.alloc(0);
  if (secret.length < KEY_BYTES)
    throw new Error(`${key} in Redis is shorter than ${KEY_BYTES} bytes; delete it to have a new key made`);
  return secret;
}

// How long an ask for the key waits for Redis to connect before it says Redis is not reachable (the next ask tries
// again).
const CONNECT_WAIT_MS = 2000;

// The shared secret, asked for when it is needed (a link signed or checked), not at start-up: a server whose Redis
// is down when it starts still starts. Once read it is kept; a failure is not kept, so the next ask retries.
export function lazySharedSecret(redis: Redis, prefix: string, name: string): () => Promise<Buffer> {
  let asked: Promise<Buffer> | undefined;
  return () =>
    (asked ??= (async () => {
      await connected(redis, CONNECT_WAIT_MS);
      return await sharedSecret(redis, prefix, name);
    })().catch((err: unknown) => {
      asked = undefined;
      throw err;
    }));
}

// Resolves once the connection is ready; rejects, saying Redis is not reachable, when it is not within `ms`.
async function connected(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return;
  let onReady!: () => void;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      redis.once('ready', onReady);
      timer = setTimeout(() => reject(new Error('Redis is not reachable (the one-tap links key is kept there)')), ms);
      timer.unref();
    });
  } finally {
    clearTimeout(timer);
    redis.off('ready', onReady);
  }
}
