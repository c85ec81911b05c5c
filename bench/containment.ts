import { execa } from 'execa';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { safeKill } from '../src/claude/terminate/index.js';
import { containedCommand, describeContainment, probeContainment, type Containment } from '../src/claude/contain.js';
import { claudeEnv, makeTempHome, type ScriptedApi } from '../test/support/scripted-api.js';
import { REAL_CLAUDE } from '../test/support/harness.js';
import { report } from './report.js';
import { median, pct, round } from './stats.js';

const STREAM = [
  '-p',
  '--input-format=stream-json',
  '--output-format=stream-json',
  '--verbose',
  '--model=haiku',
  '--no-session-persistence',
  '--strict-mcp-config',
];
const PROMPT_MESSAGE = { role: 'user', content: 'bench containment [[text:4]]' };
const PROMPT_EVENT = { type: 'user', message: PROMPT_MESSAGE, parent_tool_use_id: null, session_id: '' };
const PROMPT = `${JSON.stringify(PROMPT_EVENT)}\n`;

// The wrapper's own cost, without claude's noise: spawn -> exit of /bin/true.
async function timeTrue(c: Containment): Promise<number> {
  const cmd = containedCommand(c, '/bin/true', []);
  const t = performance.now();
  await execa(cmd.file, cmd.args, {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
    reject: false,
    detached: true,
    cleanup: false,
  });
  return performance.now() - t;
}

// Spawns claude as the engine does (detached, piped, our env only) and times spawn -> the first stdout line that
// matches.
async function timeToLine(
  c: Containment,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  match: (line: string) => boolean,
  stdin?: string,
): Promise<number> {
  const cmd = containedCommand(c, REAL_CLAUDE, args);
  const t = performance.now();
  const child = execa(cmd.file, cmd.args, {
    env,
    extendEnv: false,
    cwd,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'ignore',
    buffer: false,
    reject: false,
    detached: true,
    cleanup: false,
  });
  if (stdin) child.stdin?.write(stdin);
  let buffered = '';
  let timer: NodeJS.Timeout | undefined;
  const ms = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      if (buffered.split('\n').slice(0, -1).some(match)) resolve(performance.now() - t);
    });
    void child.then((r) =>
      reject(new Error(`claude exited (${r.exitCode ?? r.signal}) before the line: ${buffered.slice(0, 300)}`)),
    );
    // A run that never prints the line must not hang the benchmark: SIGKILL of the group ends it, contained or not.
    timer = setTimeout(() => child.pid && safeKill(-child.pid, 'SIGKILL'), 30_000);
  }).finally(() => clearTimeout(timer));
  // Let the run end on its own (stream-json: after the result, stdin closed) so it never competes with the next one.
  if (stdin) await waitFor(() => buffered.includes('"type":"result"'), 20_000);
  child.stdin?.end();
  await child;
  return ms;
}

async function waitFor(fn: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !fn() && Date.now() < end;) await sleep(10);
}

// A/B rounds, the order flipped every round so neither side always runs on a warmer machine.
async function interleaved(
  rounds: number,
  run: (c: Containment) => Promise<number>,
  contained: Containment,
  pauseMs = 250,
): Promise<{ contained: number[]; plain: number[] }> {
  const plain: Containment = { kind: 'none', why: 'baseline' };
  const out = { contained: [] as number[], plain: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    for (const side of i % 2 ? (['plain', 'contained'] as const) : (['contained', 'plain'] as const)) {
      out[side].push(await run(side === 'plain' ? plain : contained));
      await sleep(pauseMs);
    }
  }
  return out;
}

function row(what: string, t: { contained: number[]; plain: number[] }): Record<string, string | number> {
  const [c, p] = [median(t.contained), median(t.plain)];
  return {
    what,
    contained_median_ms: round(c),
    uncontained_median_ms: round(p),
    ratio: round(c / p, 3),
    added_ms: round(c - p),
    contained_p90_ms: round(pct(t.contained, 90)),
    uncontained_p90_ms: round(pct(t.plain, 90)),
  };
}

// containment: the cost per task start of the PID-namespace wrapper, as a ratio to an uncontained start in the same
// run.
export async function benchContainment(api: ScriptedApi, versionRounds = 15, streamRounds = 10): Promise<void> {
  const t = performance.now();
  const c = probeContainment();
  const probeMs = performance.now() - t;
  if (c.kind === 'none') {
    report('containment', [{ what: 'skipped', why: c.why }], { containment: describeContainment(c) });
    return;
  }
  const home = await makeTempHome();
  const env = claudeEnv(api, home);
  const loadBefore = loadavg()[0]!;
  const bare = await interleaved(30, timeTrue, c, 20);
  const version = await interleaved(
    versionRounds,
    (k) => timeToLine(k, ['--version'], env, home, (l) => /Claude Code/.test(l)),
    c,
  );
  const init = await interleaved(
    streamRounds,
    (k) => timeToLine(k, STREAM, env, home, (l) => l.includes('"subtype":"init"'), PROMPT),
    c,
  );
  report(
    'containment',
    [
      row('spawn -> exit of /bin/true (the wrapper alone)', bare),
      row('spawn -> first line of claude --version', version),
      row('spawn -> system/init (stream-json, prompt at spawn)', init),
    ],
    {
      containment: describeContainment(c),
      probe_ms: round(probeMs),
      load_1m: {
        before: round(loadBefore, 2),
        after: round(loadavg()[0]!, 2),
        note: '2 cores shared with other work: noise hits both columns alike',
      },
      rounds: { true: 30, version: versionRounds, stream_json: streamRounds },
      raw_ms: {
        version: { contained: version.contained.map((v) => round(v)), uncontained: version.plain.map((v) => round(v)) },
        init: { contained: init.contained.map((v) => round(v)), uncontained: init.plain.map((v) => round(v)) },
      },
    },
  );
}
