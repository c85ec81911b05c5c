import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';

const ServerEntry = z.looseObject({
  type: z.enum(['stdio', 'http', 'sse']).optional(),
  command: z.string().min(1).optional(),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  url: z.string().optional(),
});

// The shape of an MCP config file as claude reads it (`--mcp-config`).
export const McpConfigFile = z.strictObject({
  mcpServers: z.record(
    z.string().regex(/^[A-Za-z0-9_-]+$/, 'server names are letters, digits, _ and -'),
    ServerEntry.refine((s) => !!s.command || !!s.url, 'needs "command" (stdio) or "url" (http)'),
  ),
});
export type McpConfigFile = z.infer<typeof McpConfigFile>;

// A file's stamp: a hash of its content (an MCP config is small). A stat can miss a same-size edit within one tick of
// the file system's clock.
export const contentStamp = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

// Reads and validates an MCP config; errors name the file and the field.
export function loadMcpConfig(path: string): McpConfigFile {
  return readMcpConfig(path).config;
}

// An MCP config as loadMcpConfig gives it, and the stamp of the text it was read from (one read for both): a spec
// made from it is made again when the file's stamp differs.
export function readMcpConfig(path: string): { config: McpConfigFile; stamp: string } {
  let raw: unknown;
  let stamp: string;
  try {
    const bytes = readFileSync(path);
    stamp = contentStamp(bytes);
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Error(`MCP config ${path}: does not exist`, { cause: err });
    throw new Error(`MCP config ${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  // Jitless: a file parsed once per read, where zod's compiled fast path would cost more to build than it saves.
  const parsed = McpConfigFile.safeParse(raw, { jitless: true });
  if (!parsed.success) {
    throw new Error(
      `MCP config ${path} is ` +
        `invalid:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`,
    );
  }
  for (const [name, server] of Object.entries(parsed.data.mcpServers)) {
    if (/claude-tiers/.test(`${server.command ?? ''} ${server.args.join(' ')}`)) {
      throw new Error(
        `MCP config ${path}: server "${name}" runs claude-tiers itself; a child claude must never load ` +
          `claude-tiers (recursion)`,
      );
    }
  }
  return { config: parsed.data, stamp };
}

// The `--allowedTools` entries that let claude call every tool of these servers.
export function mcpAllowedTools(config: McpConfigFile): string[] {
  return Object.keys(config.mcpServers).map((name) => `mcp__${name}`);
}

export interface McpPlaceholders {
  CWD: string;
  CLAUDE_TIERS_STATE_DIR: string;
}

const require = createRequire(import.meta.url);

// `npx -y pkg@version` of a package claude-tiers ships is run as `node <its bin>` directly: no npx hop, no network.
function shortcutNpx(command: string | undefined, args: string[]): { command?: string; args: string[] } {
  if (command !== 'npx') return { command, args };
  const rest = args.filter((a) => a !== '-y' && a !== '--yes');
  const spec = rest[0];
  if (!spec || spec.startsWith('-')) return { command, args };
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const version = at > 0 ? spec.slice(at + 1) : undefined;
  try {
    const pkgPath = require.resolve(`${name}/package.json`);
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string; bin?: string | Record<string, string> };
    if (version && pkg.version !== version) return { command, args };
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin ? Object.values(pkg.bin)[0] : undefined;
    if (!bin) return { command, args };
    return { command: process.execPath, args: [join(dirname(pkgPath), bin), ...rest.slice(1)] };
  } catch {
    return { command, args };
  }
}

const expand = (s: string, values: McpPlaceholders): string =>
  s.replace(/\$\{(CWD|CLAUDE_TIERS_STATE_DIR)\}/g, (_, k: keyof McpPlaceholders) => values[k]);

// The config a task's claude gets: placeholders filled in (${CWD} = the task's cwd), local packages run directly.
export function materializeMcpConfig(config: McpConfigFile, values: McpPlaceholders): McpConfigFile {
  const mcpServers: McpConfigFile['mcpServers'] = {};
  for (const [name, server] of Object.entries(config.mcpServers)) {
    const args = server.args.map((a) => expand(a, values));
    const env = Object.fromEntries(Object.entries(server.env).map(([k, v]) => [k, expand(v, values)]));
    const direct = shortcutNpx(server.command, args);
    mcpServers[name] = { ...server, ...(direct.command ? { command: direct.command } : {}), args: direct.args, env };
  }
  return { mcpServers };
}

// A 0600 file written whole or not at all (temp file + rename): a claude starting meanwhile never reads half of it.
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}
