import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './harness.js';

// A free loopback port (the OS picks it; closed again before Redis takes it).
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

// A real redis-server (the Debian package) on a free loopback port, with an append-only file so a stop and start
// keeps its data, as in production (persist: false, a Redis that comes back empty).
export interface TestRedis {
  url: string;
  port: number;
  client(): Redis;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that hangs instead of refusing connections. */
  pause(): void;
  resume(): void;
  /** Disconnects the test's clients and stops the server. */
  close(): Promise<void>;
}

export async function startRedis(options: { persist?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ct-redis-'));
  let proc: ChildProcess | undefined;
  const clients: Redis[] = [];
  const start = async () => {
    const persist =
      options.persist === false ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always'];
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persist],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        const probe = new Redis({
          port,
          host: '127.0.0.1',
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
        });
        probe.on('error', () => {});
        const pong = await probe.connect().then(
          () => probe.ping(),
          () => undefined,
        );
        probe.disconnect();
        return pong === 'PONG';
      },
      10_000,
      100,
    );
  };
  await start();
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client() {
      const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    stop,
    start,
    pause: () => proc?.kill('SIGSTOP'),
    resume: () => proc?.kill('SIGCONT'),
    async close() {
      for (const c of clients) c.disconnect();
      await stop();
    },
  };
}
