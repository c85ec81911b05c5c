import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClaudeEnv } from '../../src/claude/args.js';
import { shownUrl, unreachable } from '../../src/cluster/redis-conn.js';
import { loadConfig } from '../../src/config/load.js';
import { withholdSecrets } from '../../src/secrets.js';
import { ROOT, runCli } from '../support/harness.js';

const home = () => mkdtempSync(join(tmpdir(), 'ct-cfg-'));

describe('cluster configuration', () => {
  it('the Redis URL comes from --redis or CLAUDE_TIERS_REDIS_URL; a bad one is refused naming the field', () => {
    const env = { HOME: home() };
    expect(loadConfig({ env, cwd: env.HOME }).config.redis).toBeUndefined();
    expect(
      loadConfig({ env: { ...env, CLAUDE_TIERS_REDIS_URL: 'redis://10.0.0.5:6379/2' }, cwd: env.HOME }).config.redis,
    ).toEqual({ url: 'redis://10.0.0.5:6379/2', prefix: 'claude-tiers', eventCap: 1000 });
    expect(loadConfig({ env, cwd: env.HOME, flags: { redis: 'rediss://r.example:6380' } }).config.redis?.url).toBe(
      'rediss://r.example:6380',
    );
    expect(() => loadConfig({ env, cwd: env.HOME, flags: { redis: 'http://nope' } })).toThrow(
      /redis\.url is a redis:\/\/ or rediss:\/\/ URL/,
    );
    // A front end that runs no task itself makes sense only with workers behind a shared queue.
    expect(() => loadConfig({ env, cwd: env.HOME, flags: { maxRunning: 0 } })).toThrow(
      /limits\.maxRunning.*needs a shared queue.*--redis/,
    );
    expect(
      loadConfig({ env, cwd: env.HOME, flags: { maxRunning: 0, redis: 'redis://h:1' } }).config.limits.maxRunning,
    ).toBe(0);
  });

  it('a project config cannot point the server at a Redis (its tasks would run from a queue it chose)', () => {
    const dir = home();
    writeFileSync(
      join(dir, 'claude-tiers.config.json'),
      JSON.stringify({ redis: { url: 'redis://attacker.example:6379' } }),
    );
    const loaded = loadConfig({ env: { HOME: home() }, cwd: dir });
    expect(loaded.config.redis).toBeUndefined();
    expect(loaded.ignored.map((i) => i.key)).toContain('redis');
  });

  it('the URL (it may hold a password) never reaches claude, and messages show it without the password', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin', CLAUDE_TIERS_REDIS_URL: 'redis://:s3cret@10.0.0.5:6379' };
    const tier = loadConfig({ env: { HOME: home() }, cwd: home() }).config.tiers.comprehensive!;
    expect(buildClaudeEnv(tier, env, 0).CLAUDE_TIERS_REDIS_URL).toBeUndefined();
    expect(withholdSecrets(env, [])).toContain('CLAUDE_TIERS_REDIS_URL');
    expect(env.CLAUDE_TIERS_REDIS_URL).toBeUndefined();
    expect(shownUrl('redis://user:s3cret@10.0.0.5:6379/1')).toBe('redis://user:***@10.0.0.5:6379/1');
    const err = unreachable('redis://:s3cret@10.0.0.5:6379', new Error('connect ECONNREFUSED 10.0.0.5:6379'));
    expect(err.message).not.toContain('s3cret');
    expect(err.message).toMatch(
      /^the shared task store \(Redis at redis:\/\/:\*\*\*@10\.0\.0\.5:6379\/?\) is unreachable: connect ECONNREFUSED/,
    );
    // A failure that is not Redis being away keeps its own message (a bug is not an outage).
    expect(unreachable('redis://h:1', new TypeError('x is undefined')).message).toBe('x is undefined');
  });

  it('--help names --redis; the README, compose.yaml and the packages agree with the server', async () => {
    const help = await runCli(['--help'], { env: { PATH: process.env.PATH ?? '', HOME: home() } });
    expect(help.stdout + help.stderr).toContain('--redis URL');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const text of [
      '## Scaling out',
      'CLAUDE_TIERS_REDIS_URL',
      'Redis per 10,000 finished tasks',
      'When a piece fails',
      'compose.yaml',
    ])
      expect(readme, text).toContain(text);
    const compose = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');
    expect(compose).toContain('CLAUDE_TIERS_REDIS_URL');
    expect(compose).toMatch(/--appendonly", "yes"/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies.bullmq).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.dependencies.ioredis).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
