import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ToolError } from '../errors.js';
import { launchArgv } from '../launch-command.js';
import { printOut } from './output.js';

const NAME = 'claude-tiers';
type Entry = { command: string; args: string[] };

// Where Claude Desktop keeps its config on this platform.
export function desktopConfigPath(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const home = env.HOME || homedir();
  const file = 'claude_desktop_config.json';
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Claude', file);
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'Claude', file);
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'Claude', file);
}

// Where Codex keeps its config ($CODEX_HOME, else ~/.codex).
export const codexConfigPath = (env: NodeJS.ProcessEnv = process.env): string =>
  join(env.CODEX_HOME || join(env.HOME || homedir(), '.codex'), 'config.toml');

const tomlString = (s: string): string => JSON.stringify(s);

// The Codex table for this copy, written by hand (no TOML library at run time).
export function codexTable(e: Entry): string {
  return [
    `[mcp_servers.${NAME}]`,
    `command = ${tomlString(e.command)}`,
    `args = [${e.args.map(tomlString).join(', ')}]`,
    'startup_timeout_sec = 20',
    'tool_timeout_sec = 300',
    '',
  ].join('\n');
}

// A Codex config with our table put in: our old table (and its sub-tables) replaced, every other line kept as it was.
export function mergeCodexToml(text: string, e: Entry): string {
  const ours = /^\s*\[\s*mcp_servers\s*\.\s*("claude-tiers"|'claude-tiers'|claude-tiers)\s*(\.[^\]]*)?\]\s*(#.*)?$/;
  const header = /^\s*\[/;
  const kept: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    if (header.test(line)) skipping = ours.test(line);
    if (!skipping) kept.push(line);
  }
  const body = kept.join('\n').replace(/\n*$/, '');
  return `${body ? `${body}\n\n` : ''}${codexTable(e)}`;
}

// A JSON config (Claude Desktop's, Claude Code's) with our server entry put in; other servers and keys stay. Refuses
// a file that is not JSON.
export function mergeServersJson(text: string | undefined, e: Entry & Record<string, unknown>, file: string): string {
  let config: Record<string, unknown> = {};
  if (text?.trim()) {
    try {
      config = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new ToolError(`${file} is not valid JSON (${(err as Error).message}); fix it or add the entry by hand`);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new ToolError(`${file} does not hold a JSON object; fix it or add the entry by hand`);
    }
  }
  const servers = (config.mcpServers ?? {}) as Record<string, unknown>;
  if (typeof servers !== 'object' || Array.isArray(servers)) {
    throw new ToolError(`${file}: mcpServers is not an object; fix it or add the entry by hand`);
  }
  return `${JSON.stringify({ ...config, mcpServers: { ...servers, [NAME]: e } }, null, 2)}\n`;
}

// Writes next to the file, then renames over it (0600: a client's config can hold keys).
function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

const readIfThere = (file: string): string | undefined => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);

// Claude Code keeps its user-scope servers in ~/.claude.json (or $CLAUDE_CONFIG_DIR/.claude.json), as
// `claude mcp add --scope user` writes them.
export function claudeCodeConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.CLAUDE_CONFIG_DIR || env.HOME || homedir(), '.claude.json');
}

function claudeCode(e: Entry, write: boolean): number {
  const add = ['claude', 'mcp', 'add', '--scope', 'user', NAME, '--', e.command, ...e.args];
  if (!write) {
    printOut(add.map((w) => (/\s/.test(w) ? JSON.stringify(w) : w)).join(' '));
    process.stderr.write('claude-tiers: run the line above, or `claude-tiers setup claude-code --write` for you\n');
    return 0;
  }
  const file = claudeCodeConfigPath();
  writeAtomically(file, mergeServersJson(readIfThere(file), { type: 'stdio', ...e, env: {} }, file));
  printOut(
    `added to Claude Code (user scope, ${file}): ${e.command} ${e.args.join(' ')}; check it with: claude mcp list`,
  );
  return 0;
}

function configFile(kind: 'claude-desktop' | 'codex', e: Entry, write: boolean): number {
  const file = kind === 'codex' ? codexConfigPath() : desktopConfigPath();
  const old = readIfThere(file);
  if (!write) {
    printOut(kind === 'codex' ? codexTable(e) : JSON.stringify({ mcpServers: { [NAME]: e } }, null, 2));
    process.stderr.write(`claude-tiers: add this to ${file}, or merge it in: claude-tiers setup ${kind} --write\n`);
    return 0;
  }
  const text = kind === 'codex' ? mergeCodexToml(old ?? '', e) : mergeServersJson(old, e, file);
  writeAtomically(file, text);
  const restart = kind === 'claude-desktop' ? ' (restart Claude Desktop)' : '';
  const runs = `${e.command} ${e.args.join(' ')}`;
  printOut(`${old === undefined ? 'wrote' : 'updated'} ${file}: ${NAME} runs ${runs}${restart}`);
  return 0;
}

// `claude-tiers setup claude-code|claude-desktop|codex [--write]`: the client's entry for this very copy, printed, or
// with --write added to the client's config (our old entry replaced, nothing else touched).
export function setupCommand(target: string, write: boolean): number {
  const entry = launchArgv();
  try {
    if (target === 'claude-code') return claudeCode(entry, write);
    return configFile(target as 'claude-desktop' | 'codex', entry, write);
  } catch (err) {
    process.stderr.write(`claude-tiers: ${((err as Error).message ?? String(err)).replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}
