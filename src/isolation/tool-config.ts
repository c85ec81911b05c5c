// Files that tools on the user's machine read as configuration and may run commands from: claude's settings (hooks),
// MCP servers, git hook folders, direnv, the editor's tasks. A task may write them anywhere below its cwd; brought into
// the user's checkout, they would run as the user, outside any sandbox.
const DIRS: Record<string, string | undefined> = {
  '.claude': "claude's settings (hooks, permissions, MCP servers)",
  '.githooks': 'git hooks',
  '.husky': 'git hooks (husky)',
  '.vscode': "the editor's tasks and settings",
};
const FILES: Record<string, string | undefined> = {
  '.mcp.json': 'MCP servers claude starts',
  '.envrc': 'a shell script direnv runs',
};

// Why a path (relative, "/"-separated) is tool configuration, at any depth; undefined when it is not.
export function toolConfigReason(path: string): string | undefined {
  const parts = path.split('/');
  const name = parts.at(-1)!;
  // Lower case: on a case-insensitive file system .Claude is .claude.
  const file = FILES[name.toLowerCase()];
  if (file) return file;
  const dir = parts.slice(0, -1).find((p) => DIRS[p.toLowerCase()]);
  return dir ? DIRS[dir.toLowerCase()] : undefined;
}

// The tool-configuration files among `paths`, each with its reason.
export function toolConfigFiles(paths: string[]): Array<{ path: string; reason: string }> {
  return paths.flatMap((path) => {
    const reason = toolConfigReason(path);
    return reason ? [{ path, reason }] : [];
  });
}
