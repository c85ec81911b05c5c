import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { REAL_CLAUDE, ROOT, runCli, startHttpServer } from './support/harness.js';

let api: ScriptedApi;
let env: Record<string, string>;
const TOKEN = 'edge-token-0123456789abcdef';
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

// One raw HTTP/1.1 exchange over a socket, so malformed request lines and headers reach the server exactly as written.
function raw(port: number, head: string, body = INIT): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)));
    socket.end(
      `${head}\r\ncontent-type: application/json\r\naccept: application/json, ` +
        `text/event-stream\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
const errorLines = (text: string) => text.split('\n').filter((l) => /"level":(50|60)/.test(l));

beforeAll(async () => {
  api = await startScriptedApi();
  env = {
    ...claudeEnv(api, await makeTempHome()),
    CLAUDE_TIERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'ct-edges-')),
    CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
    CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json'),
    CLAUDE_TIERS_WARM_SPARES: '0',
  };
});
afterAll(async () => {
  await api?.close();
});

describe('the HTTP token (finding 4)', () => {
  it.each([
    ['empty', ''],
    ['15 characters long', 'fifteen-chars!!'],
  ])(
    'a CLAUDE_TIERS_HTTP_TOKEN that is %s is refused at start-up: one line, the minimum length and the fix, ' +
      'exit code 2',
    async (_what, token) => {
      const r = await runCli(['serve', '--http', '127.0.0.1:0'], {
        env: { ...env, CLAUDE_TIERS_HTTP_TOKEN: token },
        timeoutMs: 15_000,
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).not.toMatch(/serving Streamable HTTP/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/CLAUDE_TIERS_HTTP_TOKEN .*at least 16 .*characters.*(openssl rand|unset it)/);
    },
  );

  it('a config httpToken is refused by the same rule', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ct-tok-')), 'config.json');
    writeFileSync(file, JSON.stringify({ httpToken: 'short' }));
    const r = await runCli(['serve', '--http', '127.0.0.1:0'], {
      env: { ...env, CLAUDE_TIERS_CONFIG: file },
      timeoutMs: 15_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/httpToken must be at least 16 characters/);
  });
});

describe('HTTP edges (finding 11)', () => {
  it(
    'a malformed Host and an absolute-form target get 400 before the token check, with no stack trace or ' +
      'error-level log line',
    async () => {
      const server = await startHttpServer({ ...env, CLAUDE_TIERS_HTTP_TOKEN: TOKEN });
      try {
        const port = Number(new URL(server.url).port);
        // No Authorization header on purpose: the request is refused for its shape, not for the token.
        expect(await raw(port, 'POST /mcp HTTP/1.1\r\nhost: [')).toBe(400);
        expect(await raw(port, `POST http://evil.com/mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}`)).toBe(400);
        expect(await raw(port, `POST //evil.com/mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}`)).toBe(400);
        expect(await raw(port, 'POST /mcp HTTP/1.1\r\nhost: evil.example.com')).toBe(403);
        expect(await raw(port, `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}`)).toBe(401);
        // The server still answers a good request.
        expect(await raw(port, `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${TOKEN}`)).toBe(
          200,
        );
        expect(errorLines(server.stderr())).toEqual([]);
        noStack(server.stderr());
      } finally {
        await server.close();
      }
    },
  );

  it(
    'a bad --http value or a port in use: one line saying what is wrong and the fix, exit code 2, no stack ' + 'trace',
    async () => {
      const busy: Server = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const busyPort = (busy.address() as { port: number }).port;
      try {
        const cases: Array<[string, RegExp]> = [
          ['127.0.0.1', /no port; use HOST:PORT, e\.g\. --http 127\.0\.0\.1:8765/],
          ['127.0.0.1:99999', /port 99999 is out of range \(0-65535\)/],
          ['localhost:http', /the port must be a number/],
          ['http://127.0.0.1:8765/mcp', /no scheme or path here/],
          [
            `127.0.0.1:${busyPort}`,
            new RegExp(`port ${busyPort} is already in use; stop the program using it or choose another port`),
          ],
        ];
        for (const [value, message] of cases) {
          const r = await runCli(['serve', '--http', value], {
            env: { ...env, CLAUDE_TIERS_HTTP_TOKEN: TOKEN },
            timeoutMs: 15_000,
          });
          expect(r.code, `${value}: ${r.stderr}`).toBe(2);
          expect(r.stderr.trim().split('\n'), value).toHaveLength(1);
          expect(r.stderr, value).toMatch(message);
          noStack(r.stderr);
        }
        const missing = await runCli(['serve', '--http'], { env, timeoutMs: 15_000 });
        expect(missing.code).toBe(2);
        expect(missing.stderr).toMatch(/--http needs a value/);
      } finally {
        busy.close();
      }
    },
  );

  it(
    '0.0.0.0 warns that remote clients need a reverse proxy with TLS and allowedHosts; a name in allowedHosts ' +
      'is accepted',
    async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'ct-hosts-')), 'config.json');
      writeFileSync(
        file,
        JSON.stringify({ allowedHosts: ['tiers.example.test'], tiers: { comprehensive: { mcpConfig: null } } }),
      );
      const server = await startHttpServer(
        { ...env, CLAUDE_TIERS_CONFIG: file, CLAUDE_TIERS_HTTP_TOKEN: TOKEN },
        '0.0.0.0:0',
      );
      try {
        const port = Number(new URL(server.url).port);
        const auth = `authorization: Bearer ${TOKEN}`;
        expect(await raw(port, `POST /mcp HTTP/1.1\r\nhost: tiers.example.test:${port}\r\n${auth}`)).toBe(200);
        expect(await raw(port, `POST /mcp HTTP/1.1\r\nhost: other.example.test:${port}\r\n${auth}`)).toBe(403);
        expect(server.stderr()).toMatch(
          /warning: listening on 0\.0\.0\.0.*reverse proxy with TLS.*allowedHosts.*tiers\.example\.test/,
        );
      } finally {
        await server.close();
      }
    },
  );
});

describe('a 401 says why (issue 21, item 7)', () => {
  it(
    'the real TS client throws an error that names the reason: no header, not Bearer, wrong token; the body ' +
      'is JSON-RPC',
    async () => {
      const server = await startHttpServer({ ...env, CLAUDE_TIERS_HTTP_TOKEN: TOKEN });
      const connectWith = async (headers: Record<string, string>): Promise<string> => {
        const client = new Client({ name: 'edges', version: '1' });
        try {
          await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } }));
          return 'connected';
        } catch (err) {
          return (err as Error).message;
        } finally {
          await client.close().catch(() => {});
        }
      };
      try {
        expect(await connectWith({})).toMatch(/no Authorization header: send Authorization: Bearer <token>/);
        expect(await connectWith({ Authorization: `Token ${TOKEN}` })).toMatch(
          /Authorization header does not start with Bearer and a space/,
        );
        expect(await connectWith({ Authorization: 'Bearer wrong-token-0123456789' })).toMatch(
          /wrong bearer token: no token of this server matches .*CLAUDE_TIERS_HTTP_TOKEN/,
        );
        expect(await connectWith({ Authorization: `Bearer ${TOKEN}` })).toBe('connected');
        const r = await fetch(server.url, {
          method: 'POST',
          headers: {
            authorization: 'Bearer wrong-token-0123456789',
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: INIT,
        });
        expect(r.status).toBe(401);
        expect(r.headers.get('www-authenticate')).toMatch(
          /^Bearer error="invalid_token", error_description="wrong bearer token/,
        );
        const body = (await r.json()) as { jsonrpc: string; id: null; error: { code: number; message: string } };
        expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000 } });
        expect(body.error.message).toMatch(/^HTTP 401: wrong bearer token/);
      } finally {
        await server.close();
      }
    },
  );
});
