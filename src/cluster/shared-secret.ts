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
