import { join, sep } from 'node:path';
import { packageRoot } from './paths.js';

// How an MCP client should start this copy of claude-tiers: `npx -y claude-tiers` when it was installed from npm,
// else node and the absolute path of this checkout's entry point (`claude-tiers` is not on PATH in a checkout without
// npm link).
export function launchCommand(root = packageRoot()): string {
  const { command, args } = launchArgv(root, 'node');
  return [command, ...args].map((w) => (/\s/.test(w) ? JSON.stringify(w) : w)).join(' ');
}

// The same as a command and its arguments, for a client's config file (`setup` names this very node: a GUI client's
// PATH may have none).
export function launchArgv(root = packageRoot(), node = process.execPath): { command: string; args: string[] } {
  if (root.split(sep).includes('node_modules')) return { command: 'npx', args: ['-y', 'claude-tiers'] };
  return { command: node, args: [join(root, 'dist', 'src', 'index.js')] };
}
