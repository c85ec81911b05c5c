import { spawn } from 'node:child_process';
import { killTreeSync } from '../claude/terminate/index.js';

// Starts one stdio MCP server and waits for its answer to `initialize`: proof that it can start here.
export function probeMcpServer(
  server: { command?: string; args: string[]; env: Record<string, string> },
  cwd: string,
  timeoutMs = 20_000,
): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    if (!server.command) return resolve({ ok: true, detail: 'remote server (not probed)' });
    const started = Date.now();
    const child = spawn(server.command, server.args, {
      cwd,
      env: { ...process.env, ...server.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    let err = '';
    let done = false;
    const finish = (ok: boolean, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.pid) killTreeSync(child.pid);
      resolve({ ok, detail });
    };
    const timer = setTimeout(
      () =>
        finish(
          false,
          `no answer to initialize within ${timeoutMs / 1000} s${err ? `: ${err.trim().slice(-200)}` : ''}`,
        ),
      timeoutMs,
    );
    child.on('error', (e) => finish(false, e.message));
    child.on('exit', (code) =>
      finish(false, `exited with code ${code} before answering${err ? `: ${err.trim().slice(-200)}` : ''}`),
    );
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        try {
          const msg = JSON.parse(line) as {
            id?: number;
            result?: { serverInfo?: { name?: string; version?: string } };
          };
          if (msg.id === 1 && msg.result)
            finish(
              true,
              (
                `${msg.result.serverInfo?.name ?? '?'} ${msg.result.serverInfo?.version ?? ''} answered ` +
                `in ${Date.now() - started} ms`
              ).trim(),
            );
        } catch {
          /* partial line */
        }
      }
    });
    const params = {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'claude-tiers-doctor', version: '1' },
    };
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params })}\n`);
  });
}
