import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_ENTRY } from './support/harness.js';

// Loaded into the server (node --require): on SIGUSR2 it writes the built-in modules and the CommonJS files loaded so
// far, so the test sees what the server had loaded at the moment it answered tools/list.
const PRELOAD = `const { writeFileSync } = require('node:fs');
process.on('SIGUSR2', () => writeFileSync(process.env.LOADED_OUT, JSON.stringify({
  builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
  files: Object.keys(require.cache),
})));
`;

interface Loaded {
  builtins: string[];
  files: string[];
}

// Starts the built server, completes the handshake and tools/list, and reports what was loaded by then.
async function loadedAtToolsList(): Promise<{ loaded: Loaded; toolCount: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ct-start-path-'));
  const preload = join(dir, 'preload.cjs');
  const out = join(dir, 'loaded.json');
  writeFileSync(preload, PRELOAD);
  const server = spawn(process.execPath, ['--require', preload, SERVER_ENTRY], {
    env: {
      ...process.env,
      LOADED_OUT: out,
      CLAUDE_TIERS_STATE_DIR: join(dir, 'state'),
      CLAUDE_TIERS_WARM_SPARES: '0',
      CLAUDE_TIERS_LOG_LEVEL: 'warn',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  try {
    const send = (message: object) => server.stdin.write(`${JSON.stringify(message)}\n`);
    const toolCount = await new Promise<number>((resolve, reject) => {
      let buffer = '';
      server.once('exit', (code) => reject(new Error(`server exited (${code}) before answering tools/list`)));
      server.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const message = JSON.parse(buffer.slice(0, nl)) as { id?: number; result?: { tools?: unknown[] } };
          buffer = buffer.slice(nl + 1);
          if (message.id === 1) {
            send({ jsonrpc: '2.0', method: 'notifications/initialized' });
            send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
          } else if (message.id === 2) {
            server.kill('SIGUSR2');
            resolve(message.result?.tools?.length ?? 0);
          }
        }
      });
      send({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'start-path', version: '1' } },
      });
    });
    for (let i = 0; i < 200 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 25));
    return { loaded: JSON.parse(readFileSync(out, 'utf8')) as Loaded, toolCount };
  } finally {
    server.kill('SIGKILL');
  }
}

describe('stdio start-up path', () => {
  // Start-up (spawn -> tools/list answered) is a benchmark target: what only the engine, a log line, a metrics port or
  // an elicitation needs is loaded after the answer, not before it.
  it('answers tools/list before loading pino, node:http, worker threads or the SDK ajv validator', async () => {
    const { loaded, toolCount } = await loadedAtToolsList();
    expect(toolCount).toBeGreaterThan(5);
    expect(loaded.builtins).toContain('fs');
    expect(loaded.builtins).not.toContain('http');
    expect(loaded.builtins).not.toContain('worker_threads');
    expect(loaded.files.filter((f) => /[\\/](pino|ajv|ajv-formats)[\\/]|ajvProvider/.test(f))).toEqual([]);
  });
});
