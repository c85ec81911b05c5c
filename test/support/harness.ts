import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { claudeEnv, makeTempHome, type ScriptedApi } from './scripted-api.js';

// The package root, whether this file runs from test/support (vitest) or dist/test/support (benchmarks).
export const ROOT = ((): string => {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5 && !existsSync(join(dir, '.mcp.comprehensive.json')); i++) dir = resolve(dir, '..');
  return dir;
})();
export const SERVER_ENTRY = join(ROOT, 'dist', 'src', 'index.js');
export const REAL_CLAUDE = join(ROOT, 'node_modules', '.bin', 'claude');

export interface StartedServer {
  client: Client;
  transport: StdioClientTransport;
  pid: number;
  stateDir: string;
  home: string;
  stderr(): string;
  close(): Promise<void>;
}

export interface StartOptions {
  era?: 'legacy' | 'modern';
  stateDir?: string;
  home?: string;
  env?: Record<string, string>;
  args?: string[];
  cwd?: string;
  /** Start the comprehensive tier's MCP servers (slower); off by default unless the test passes its own config. */
  mcp?: boolean;
  /** Keep warm spares for the speed tier (off by default, so process counts stay exact). */
  spares?: number;
}

// A config file with this content, in a folder of its own unless `dir` is given (named like a project's config by
// default, so it serves either role).
export function configFile(
  config: unknown,
  dir = mkdtempSync(join(tmpdir(), 'ct-config-')),
  name = 'claude-tiers.config.json',
): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

let noMcpConfig: string | undefined;
// A config file that only turns the comprehensive tier's MCP servers off, for tests that do not need them.
function noMcpConfigFile(): string {
  noMcpConfig ??= configFile({ tiers: { comprehensive: { mcpConfig: null } } });
  return noMcpConfig;
}

// The environment the built server runs with in tests: the scripted API, a temp HOME and state dir, the real claude.
export async function serverEnv(
  api: ScriptedApi,
  options: StartOptions = {},
): Promise<{ env: Record<string, string>; home: string; stateDir: string }> {
  const home = options.home ?? (await makeTempHome());
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'ct-state-'));
  const env = {
    ...claudeEnv(api, home),
    CLAUDE_TIERS_STATE_DIR: stateDir,
    CLAUDE_TIERS_LOG_LEVEL: 'info',
    CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
    CLAUDE_TIERS_WARM_SPARES: String(options.spares ?? 0),
    ...(options.mcp ? {} : { CLAUDE_TIERS_CONFIG: noMcpConfigFile() }),
    ...options.env,
  };
  return { env, home, stateDir };
}

// Starts the built server as a child process and connects a real SDK client to it over stdio.
export async function startServer(api: ScriptedApi, options: StartOptions = {}): Promise<StartedServer> {
  const { env, home, stateDir } = await serverEnv(api, options);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_ENTRY, ...(options.args ?? [])],
    env,
    cwd: options.cwd ?? ROOT,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client(
    { name: 'claude-tiers-test', version: '1.0.0' },
    options.era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(transport);
  return {
    client,
    transport,
    pid: transport.pid ?? -1,
    stateDir,
    home,
    stderr: () => stderr,
    close: () => client.close(),
  };
}

// Every process whose command line contains `needle` (read from /proc), except this test process.
export function processesMatching(needle: string): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmdline.includes(needle)) out.push({ pid: Number(name), cmdline });
    } catch {
      /* gone */
    }
  }
  return out;
}

// Children of a pid whose executable is claude (for "never more than N at once").
export function claudeChildren(parentPid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid) continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes('claude')) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Polls until fn() is truthy or the time is up; returns the last value.
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await fn();
  while (!value && Date.now() < end) {
    await sleep(everyMs);
    value = await fn();
  }
  return value;
}

// waitFor for a value that must come: throws (naming the wait) if fn() is still empty when the time is up, so the
// caller reads the value without checking it again.
export async function waitForValue<T>(
  fn: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<T> {
  const value = await waitFor(fn, timeoutMs, everyMs);
  if (value === null || value === undefined || value === false) throw new Error(`nothing came in ${timeoutMs} ms`);
  return value;
}

// A wrapper around the real claude that records its argv (one JSON line per run) before exec'ing it.
export function argvRecordingClaude(dir: string): { bin: string; log: string; runs(): string[][] } {
  const bin = join(dir, 'claude-argv');
  const log = join(dir, 'argv.jsonl');
  writeFileSync(
    bin,
    `#!/bin/sh\nnode -e 'require("fs").appendFileSync(process.argv[1], ` +
      `JSON.stringify(process.argv.slice(2))+"\\n")' "${log}" "$@"\nexec "${REAL_CLAUDE}" "$@"\n`,
  );
  chmodSync(bin, 0o755);
  writeFileSync(log, '');
  return {
    bin,
    log,
    runs: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]),
  };
}

// The text of a tool result's first text block.
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.find((c) => c.type === 'text')?.text ?? '';
}

let sleepCounter = 0;
// A `sleep` duration that is unique in the process table (e.g. 300.004217931), so a test can find exactly its own
// processes.
export function uniqueSleep(seconds = 300): string {
  sleepCounter++;
  const pid = String(process.pid % 1000).padStart(3, '0');
  const now = String(Date.now() % 100000).padStart(5, '0');
  return `${seconds}.${pid}${now}${String(sleepCounter).padStart(3, '0')}`;
}

// Starts `claude-tiers serve --http LISTEN` (default 127.0.0.1:0) with this environment; resolves with the URL it
// prints.
export async function startHttpServer(
  env: Record<string, string>,
  listen = '127.0.0.1:0',
): Promise<{ proc: ChildProcess; url: string; stderr(): string; close(): Promise<void> }> {
  const proc = spawn(process.execPath, [SERVER_ENTRY, 'serve', '--http', listen], {
    env,
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving Streamable HTTP at (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', () => reject(new Error(`server exited: ${err}`)));
  });
  return {
    proc,
    url,
    stderr: () => err,
    close: async () => {
      proc.kill('SIGTERM');
      await waitFor(() => !proc.pid || !isAlive(proc.pid), 5000);
    },
  };
}

// Starts the built CLI (stdin closed) and keeps its output, for a test that acts while it runs: closed is its exit
// code (null when a signal ended it), stdout() and stderr() what it printed so far.
export function startCli(
  args: string[],
  options: { env: Record<string, string>; cwd?: string },
): { proc: ChildProcess; closed: Promise<number | null>; stdout(): string; stderr(): string } {
  const proc = spawn(process.execPath, [SERVER_ENTRY, ...args], {
    env: options.env,
    cwd: options.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => proc.once('close', resolve));
  return { proc, closed, stdout: () => stdout, stderr: () => stderr };
}

// Runs the built CLI to its end (stdin closed) and returns its exit code and output; never throws on a non-zero exit.
export async function runCli(
  args: string[],
  options: { env: Record<string, string>; cwd?: string; timeoutMs?: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, options);
  const timer = setTimeout(() => cli.proc.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const code = await cli.closed.finally(() => clearTimeout(timer));
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
