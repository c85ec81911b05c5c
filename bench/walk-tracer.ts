import { Session } from 'node:inspector/promises';
import { parentPort } from 'node:worker_threads';

// The tracer of bench/walk.ts, in a worker thread so that it can pause the main thread (a session of the main thread
// on itself cannot): V8 coverage of a warm-up call names the project functions one call runs; a breakpoint at the
// start of each body then stops the walked call at every function entry, and each entry's callers (sync frames, then
// the async chain) say which module it came from. Entries stop counting at the spawn of claude.

interface Frame {
  url: string;
  functionName: string;
}
// A paused frame names its script by id only.
interface CallFrame extends Frame {
  location: { scriptId: string; lineNumber: number; columnNumber: number };
}
interface StackTrace {
  callFrames: Frame[];
  parent?: StackTrace;
}
interface Paused {
  callFrames: CallFrame[];
  asyncStackTrace?: StackTrace;
}
interface CoverageFunction {
  functionName: string;
  ranges: Array<{ startOffset: number; count: number }>;
}

// One function entry of the walk: its module, its function, and the modules it was reached through, nearest first
// (consecutive frames of one module are one), up to the tool's handler.
export interface Entry {
  room: string;
  fn: string;
  path: string[];
}

const session = new Session();
session.connectToMainThread();
const port = parentPort!;
const urls = new Map<string, string>();
const entries: Entry[] = [];
let walking = false;
let handler = '';
let spawnRoom = '';

// The project module of a script url (src/... or tools/...), or '' for anything else.
export const roomOf = (url: string): string => /\/dist\/((?:src|tools)\/.*)\.js$/.exec(url)?.[1] ?? '';

// Where a function's body starts: past its parameter list, at the `{` of its body or after the `=>` of an arrow.
function bodyStart(text: string, start: number): number {
  let i = text.indexOf('(', start);
  if (i < 0) return start;
  for (let depth = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) break;
  }
  const rest = text.slice(i + 1, i + 200);
  const m = /^\s*(?::[^={]*)?(=>|\{)/.exec(rest);
  return m ? i + 1 + m.index + m[0].length : start;
}

function lineCol(text: string, offset: number): { lineNumber: number; columnNumber: number } {
  const before = text.slice(0, offset);
  const lineNumber = before.split('\n').length - 1;
  return { lineNumber, columnNumber: offset - (before.lastIndexOf('\n') + 1) };
}

// The frames above a paused entry, nearest first: the sync callers, then each async parent's.
function callers(p: Paused): Frame[] {
  const out: Frame[] = p.callFrames.slice(1).map(named);
  for (let t = p.asyncStackTrace; t; t = t.parent) out.push(...t.callFrames);
  return out;
}

// A paused frame with its script's url.
const named = (f: CallFrame): Frame => ({ url: urls.get(f.location.scriptId) ?? '', functionName: f.functionName });

session.on('Debugger.paused', (msg) => {
  const p = msg.params as unknown as Paused;
  const top = p.callFrames[0] && named(p.callFrames[0]);
  if (walking && top) {
    const room = roomOf(top.url);
    const up = callers(p);
    // Only what the walked call runs: the tool's handler is on its stack (timers of the server are not).
    const rooms = up.map((f) => roomOf(f.url)).filter((r) => r !== '');
    const end = rooms.indexOf(handler);
    if (room && end >= 0) {
      const path = rooms.slice(0, end + 1).filter((r, i, all) => r !== (i ? all[i - 1] : room));
      entries.push({ room, fn: top.functionName || '(anonymous)', path });
      if (room === spawnRoom) walking = false;
    }
  }
  void session.post('Debugger.resume').catch(() => {});
});

port.on('message', (msg: { type: string; handler?: string; spawnRoom?: string }) => {
  void (async () => {
    if (msg.type === 'begin') {
      session.on('Debugger.scriptParsed', (m) => {
        const { scriptId, url } = m.params as { scriptId: string; url: string };
        urls.set(scriptId, url);
      });
      await session.post('Profiler.enable');
      await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
      await session.post('Debugger.enable');
      await session.post('Debugger.setAsyncCallStackDepth', { maxDepth: 64 });
      port.postMessage({ type: 'begun' });
    } else if (msg.type === 'arm') {
      handler = msg.handler!;
      spawnRoom = msg.spawnRoom!;
      const { result } = await session.post('Profiler.takePreciseCoverage');
      let armed = 0;
      for (const script of result) {
        if (!roomOf(script.url)) continue;
        const { scriptSource } = await session.post('Debugger.getScriptSource', { scriptId: script.scriptId });
        for (const f of script.functions as CoverageFunction[]) {
          const range = f.ranges[0];
          // Every function that ran, anonymous ones too, but the module's own top level (its range starts at 0).
          if (!range || range.count === 0 || range.startOffset === 0 || f.functionName.startsWith('<')) continue;
          const at = lineCol(scriptSource, bodyStart(scriptSource, range.startOffset));
          await session
            .post('Debugger.setBreakpoint', { location: { scriptId: script.scriptId, ...at } })
            .then(() => armed++)
            .catch(() => {});
        }
      }
      await session.post('Profiler.stopPreciseCoverage');
      walking = true;
      port.postMessage({ type: 'armed', armed });
    } else if (msg.type === 'report') {
      walking = false;
      await session.post('Debugger.disable');
      port.postMessage({ type: 'report', entries });
    }
  })();
});
