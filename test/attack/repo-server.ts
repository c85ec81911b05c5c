import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { configFile, startServer, type StartedServer } from '../support/harness.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { finalView, type TaskView } from '../support/views.js';

// git in a folder, its output trimmed.
export const gitIn = (dir: string, ...args: string[]): string =>
  execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();

// What an attack test on a repository starts with: one scripted API, a scratch repository (README plus the given
// files, one commit on main) inside a roots folder, and a server allowed those roots, started in the repository.
export interface RepoServer {
  api: ScriptedApi;
  roots: string;
  repo: string;
  server: StartedServer;
  final(id: string): Promise<TaskView>;
  close(): Promise<void>;
}

// What a test adds to the set-up: env over the server's (its config is CLAUDE_TIERS_CONFIG), and what it does in the
// repository once it is committed, before the server starts there.
export interface RepoServerOptions {
  env?: Record<string, string>;
  beforeStart?(repo: string): void;
}

// Starts it; files maps paths inside the repository to their content.
export async function startRepoServer(
  files: Record<string, string> = {},
  options: RepoServerOptions = {},
): Promise<RepoServer> {
  const api = await startScriptedApi();
  const roots = mkdtempSync(join(tmpdir(), 'ct-roots-'));
  const repo = join(roots, 'repo');
  mkdirSync(repo);
  gitIn(repo, 'init', '-q', '-b', 'main');
  for (const [path, text] of Object.entries({ README: 'base\n', ...files })) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
  gitIn(repo, 'add', '.');
  gitIn(repo, '-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
  const config = configFile({ allowedRoots: [roots], tiers: { comprehensive: { mcpConfig: null } } });
  options.beforeStart?.(repo);
  const server = await startServer(api, { cwd: repo, env: { CLAUDE_TIERS_CONFIG: config, ...options.env } });
  return {
    api,
    roots,
    repo,
    server,
    final: (id) => finalView(server.client, id),
    async close() {
      await server.close();
      await api.close();
    },
  };
}

// The same, for one test file: starts it before the file's tests (beforeAll) and closes it after them (afterAll).
// Its fields are read from the started set-up, so read them inside a test, not at the top of the file.
export function useRepoServer(files: Record<string, string> = {}, options: RepoServerOptions = {}): RepoServer {
  let ctx: RepoServer | undefined;
  beforeAll(async () => {
    ctx = await startRepoServer(files, options);
  });
  afterAll(async () => {
    await ctx?.close();
  });
  const started = (): RepoServer => {
    if (!ctx) throw new Error('useRepoServer: read inside a test (its beforeAll has not run)');
    return ctx;
  };
  return {
    get api() {
      return started().api;
    },
    get roots() {
      return started().roots;
    },
    get repo() {
      return started().repo;
    },
    get server() {
      return started().server;
    },
    final: (id) => started().final(id),
    close: () => started().close(),
  };
}
