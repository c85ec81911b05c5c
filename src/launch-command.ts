import { join, sep } from 'node:path';
import { packageRoot } from './paths.js';

// How an MCP client should start this copy of claude-tiers: `npx -y claude-tiers` when it was installed from npm,
// else node and the absolute path of this checkout's entry point (`claude-tiers` is not on PATH in a checkout without npm link).
export function launchCommand(root = packageRoot()): string {
  if (root.split(sep).includes('node_modules')) return 'npx -y claude-tiers';
  const entry = join(root, 'dist', 'src', 'index.js');
  return `node ${/\s/.test(entry) ? JSON.stringify(entry) : entry}`;
}
