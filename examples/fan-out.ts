import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// What fanOut starts: the prompts, how to start the server, and (with isolate) where and how the tasks run.
export interface FanOutOptions {
  prompts: string[];
  /** How to start claude-tiers; default: this package's built server. */
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Where progress lines go (default: stderr). */
  log?: (line: string) => void;
  /** Run each task in its own git worktree (deep_task isolation "worktree") on branch claude-tiers/<task_id>. */
  isolate?: boolean;
  /** The tasks' cwd (with isolate: a folder inside a git repository); also the server's cwd, i.e. its default allowed
   * root. */
  cwd?: string;
  /** deep_task's tier (default: the server's, comprehensive). */
  tier?: string;
}

// What an isolated task left: its branch (null when it changed nothing) and git's diffstat against its base.
export interface FanOutWorktree {
  branch: string | null;
  base_commit: string;
  head_commit?: string;
  changed_files?: string[];
  diffstat?: string;
  path?: string;
}

// One task's outcome; worktree only with isolate.
export interface FanOutResult {
  task_id: string;
  state: string;
  result: string;
  /** Only with isolate. */
  worktree?: FanOutWorktree;
}

type View = { state: string; final: boolean; cursor: number; result?: { text: string }; worktree?: FanOutWorktree };

// A parent agent of your own: starts several deep_tasks through MCP, follows their progress, collects the results.
export async function fanOut(options: FanOutOptions): Promise<FanOutResult[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src', 'index.js');
  const transport = new StdioClientTransport({
    command: options.command ?? process.execPath,
    args: options.args ?? [server],
    env: { ...(process.env as Record<string, string>), ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stderr: 'ignore',
  });
  const client = new Client({ name: 'fan-out-example', version: '1.0.0' });
  await client.connect(transport);
  try {
    const extra = {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.tier ? { tier: options.tier } : {}),
      ...(options.isolate ? { isolation: 'worktree' } : {}),
    };
    const ids: string[] = [];
    for (const prompt of options.prompts) {
      const started = await client.callTool({ name: 'deep_task', arguments: { prompt, wait_s: 0, ...extra } });
      const id = (started.structuredContent as { task_id?: string } | undefined)?.task_id;
      if (!id) throw new Error(`deep_task refused: ${JSON.stringify(started.content)}`);
      ids.push(id);
      log(`started ${id}: ${prompt.replace(/\[\[.*?\]\]/g, '').trim()}`);
    }
    // Follow every task with a long-poll that carries a progressToken: progress lines arrive as they happen.
    const lastLine = new Map<number, string>();
    const progress = (n: number, message: string) => {
      if (lastLine.get(n) === message) return;
      lastLine.set(n, message);
      log(`[agent ${n + 1}] ${message}`);
    };
    const results = await Promise.all(
      ids.map(async (id, n) => {
        let view = (await client.callTool({ name: 'task_status', arguments: { task_id: id } }))
          .structuredContent as View;
        while (!view.final) {
          const r = await client.callTool(
            { name: 'task_status', arguments: { task_id: id, wait_s: 20, cursor: view.cursor } },
            { onprogress: (p) => progress(n, p.message ?? ''), timeout: 60_000 },
          );
          view = r.structuredContent as View;
        }
        log(`[agent ${n + 1}] ${view.state}`);
        const result: FanOutResult = { task_id: id, state: view.state, result: view.result?.text ?? '' };
        if (options.isolate && view.worktree) result.worktree = view.worktree;
        return result;
      }),
    );
    return results;
  } finally {
    await client.close();
  }
}

// A scratch git repository in a temp dir with one commit (a README), for --isolate without --cwd and the demo.
export function makeScratchRepo(): string {
  const root = mkdtempSync(join(tmpdir(), 'ct-scratch-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', root, '-c', 'user.name=fan-out', '-c', 'user.email=fan-out@localhost', ...args], {
      stdio: 'ignore',
    });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(root, 'README.md'), 'A scratch repository for claude-tiers fan-out.\n');
  git('add', '-A');
  git('-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify', '-m', 'initial');
  return root;
}

// One result as the CLI and the demo print it: id, state, branch and diffstat when isolated, the answer.
export function formatResult(r: FanOutResult): string {
  const stat = (r.worktree?.diffstat ?? '')
    .split('\n')
    .map((l) => `  ${l.trim()}\n`)
    .join('');
  const wt = r.worktree
    ? r.worktree.branch
      ? `branch ${r.worktree.branch}\n${stat}`
      : 'no changes (no branch kept)\n'
    : '';
  return `\n== ${r.task_id} (${r.state})\n${wt}${r.result}\n`;
}

// Run directly: node dist/examples/fan-out.js [--isolate [--cwd DIR]] "task one" "task two" "task three"
// (uses your real claude and credentials). --isolate without --cwd makes a scratch git repository in a temp dir.
async function main(argv: string[]): Promise<void> {
  const isolate = argv.includes('--isolate');
  const cwdAt = argv.indexOf('--cwd');
  let cwd = cwdAt >= 0 && argv[cwdAt + 1] ? resolve(argv[cwdAt + 1]!) : undefined;
  const prompts = argv.filter((a, i) => a !== '--isolate' && i !== cwdAt && (cwdAt < 0 || i !== cwdAt + 1));
  if (prompts.length === 0 || (cwdAt >= 0 && !cwd)) {
    process.stderr.write(
      'usage: node dist/examples/fan-out.js [--isolate [--cwd DIR]] "task one" "task two" "task three"\n',
    );
    process.exit(2);
  }
  const env: Record<string, string> = {};
  if (isolate && !cwd) {
    cwd = makeScratchRepo();
    // The server's allowed roots become the scratch repository (it is also the server's cwd).
    env.CLAUDE_TIERS_ROOTS = cwd;
    process.stderr.write(`scratch repository: ${cwd}\n`);
  }
  const results = await fanOut({ prompts, isolate, cwd, env });
  for (const r of results) process.stdout.write(formatResult(r));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
