import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';

// Per-file cost of the suite, for `npx vitest run --config vitest.profile.config.ts`: each test file appends one JSON
// line to $CT_PROFILE_OUT (default /tmp/ct-profile.jsonl) with its CPU seconds (this worker and every child it reaped:
// servers, and the claude processes they reaped), its wall time and the scripted API's requests and claude sessions.
// Only the setup file of that config imports it; a plain `vitest run` never does.

const OUT = process.env.CT_PROFILE_OUT ?? '/tmp/ct-profile.jsonl';

// utime, stime, cutime, cstime of this process, in seconds (fields 14-17 of /proc/self/stat).
function cpuTimes(): { self: number; all: number } {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ').map(Number);
  const [utime = 0, stime = 0, cutime = 0, cstime = 0] = f.slice(11, 15);
  return { self: (utime + stime) / 100, all: (utime + stime + cutime + cstime) / 100 };
}

let file = '';
let start = { self: 0, all: 0 };
let t0 = 0;
let requests = 0;
const sessions = new Set<string>();
(globalThis as { __ctProfile?: (headers: unknown, body: unknown) => void }).__ctProfile = (headers, body) => {
  requests++;
  const session = (headers as Record<string, unknown>)['x-claude-code-session-id'];
  sessions.add(String(session ?? JSON.stringify((body as { metadata?: unknown }).metadata ?? null)));
};

// Vitest wants the hook's first argument destructured; the suite (second) names the file.
// eslint-disable-next-line no-empty-pattern
beforeAll(({}, suite) => {
  file = (suite as { file?: { filepath?: string } }).file?.filepath ?? '?';
  start = cpuTimes();
  t0 = Date.now();
  requests = 0;
  sessions.clear();
});

afterAll(() => {
  const now = cpuTimes();
  const line = {
    file,
    cpu: +(now.all - start.all).toFixed(2),
    self: +(now.self - start.self).toFixed(2),
    wall: Date.now() - t0,
    requests,
    sessions: sessions.size,
  };
  appendFileSync(OUT, `${JSON.stringify(line)}\n`);
});
