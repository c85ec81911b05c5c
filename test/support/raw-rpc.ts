import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { ScriptedApi } from './scripted-api.js';
import { ROOT, SERVER_ENTRY, serverEnv, type StartOptions } from './harness.js';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

export interface RpcReply {
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

// A 2026-07-28 client speaking raw JSON-RPC: the SDK Client rejects task results of tools/call, this one does not.
export interface RawServer {
  rpc(method: string, params: Record<string, unknown>, options?: { tasks?: boolean }): Promise<RpcReply>;
  pid: number;
  stateDir: string;
  close(): Promise<void>;
}

// Starts the built server and talks to it without an SDK Client; each request carries the 2026 envelope.
export async function startRawServer(api: ScriptedApi, options: StartOptions = {}): Promise<RawServer> {
  const { env, stateDir } = await serverEnv(api, options);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_ENTRY],
    env,
    cwd: options.cwd ?? ROOT,
    stderr: 'pipe',
  });
  const pending = new Map<number, (reply: RpcReply) => void>();
  // The server logs to stderr: keep reading it, or a full pipe would block the server.
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  // A server that dies fails every waiting request at once, with its last words.
  transport.onclose = () => {
    for (const [, resolve] of pending)
      resolve({ error: { code: -1, message: `server closed the connection; stderr: ${stderr.slice(-2000)}` } });
    pending.clear();
  };
  transport.onmessage = (message) => {
    const m = message as { id?: number } & RpcReply;
    if (typeof m.id === 'number' && pending.has(m.id)) {
      pending.get(m.id)!({ result: m.result, error: m.error });
      pending.delete(m.id);
    }
  };
  await transport.start();
  let nextId = 0;
  return {
    pid: transport.pid ?? -1,
    stateDir,
    rpc(method, params, { tasks = true } = {}) {
      const id = ++nextId;
      const _meta = {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': { name: 'raw-test-client', version: '1.0.0' },
        'io.modelcontextprotocol/clientCapabilities': tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {},
      };
      return new Promise<RpcReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${method}: no reply in 30 s`));
        }, 30_000);
        pending.set(id, (reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        transport.send({ jsonrpc: '2.0', id, method, params: { ...params, _meta } }).catch(reject);
      });
    },
    close: () => transport.close(),
  };
}
