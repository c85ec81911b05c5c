import { afterAll, beforeAll } from 'vitest';
import { probeContainment } from '../../src/claude/contain.js';
import { ProcessTable } from '../../src/claude/spawn.js';
import { startServer, type StartedServer, type StartOptions } from './harness.js';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './scripted-api.js';

// What a test file opens and must close: a server, a Redis, a client.
interface Closable {
  close(): Promise<void>;
}

// One scripted API for a test file, and what its tests open, all closed after the file, newest first.
export function apiPerFile(): { readonly api: ScriptedApi; keep<T extends Closable>(...items: T[]): void } {
  let api: ScriptedApi | undefined;
  const opened: Closable[] = [];
  beforeAll(async () => {
    api = await startScriptedApi();
  });
  afterAll(async () => {
    for (const o of opened.reverse()) await o.close().catch(() => {});
    await api?.close();
  });
  return {
    get api() {
      return api!;
    },
    keep: (...items) => void opened.push(...items),
  };
}

// One scripted API and one server (stdio, a real MCP client) for a test file.
export function serverPerFile(options?: StartOptions): { readonly api: ScriptedApi; readonly server: StartedServer } {
  const file = apiPerFile();
  let server: StartedServer | undefined;
  beforeAll(async () => {
    server = await startServer(file.api, options);
    file.keep(server);
  });
  return {
    get api() {
      return file.api;
    },
    get server() {
      return server!;
    },
  };
}

// For a file whose tests drive claude directly: one scripted API, a temp HOME (env() is claude's environment for
// both) and a process table, whose processes are all killed after the file. The table contains claude as a server's
// does (a PID namespace that dies with its parent, where the kernel allows), so a test worker killed mid-file leaves
// no claude, bwrap or socat behind.
export function claudePerFile(): {
  readonly api: ScriptedApi;
  readonly table: ProcessTable;
  env(): Record<string, string>;
} {
  const file = apiPerFile();
  const table = new ProcessTable(probeContainment());
  let home = '';
  beforeAll(async () => {
    home = await makeTempHome();
  });
  afterAll(() => table.killAllSync());
  return {
    get api() {
      return file.api;
    },
    table,
    env: () => claudeEnv(file.api, home),
  };
}

// A run's turn limits in tests: wall and idle time, with the stop each one gives.
export const runLimits = (wallMs = 30_000, idleMs = 30_000) => ({
  wallMs,
  idleMs,
  wallStop: { reason: 'wall_timeout', message: 'wall' },
  idleStop: { reason: 'idle_timeout', message: 'idle' },
});
