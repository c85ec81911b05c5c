import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { BoardSession } from '../../src/board/board-sessions.js';
import { BoardStreams } from '../../src/board/board-streams.js';
import type { BoardChange } from '../../src/board/board-tasks.js';
import { ChangeFeed, parsePosition } from '../../src/board/change-feed.js';
import { RegistryBoardTasks } from '../../src/board/registry-board-tasks.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { Engine } from '../../src/engine.js';
import { parseDiff } from '../../src/board/task-diff.js';
import { parseCliArgs, UsageError } from '../../src/cli-args.js';

// Issue 22: the board's small parts, without a server.
// A fake source of task changes (the registry's watchAll): watch subscribes a listener, emit(id) tells every one.
function changeSource() {
  const listeners = new Set<(id: string) => void>();
  return {
    listeners,
    watch: (l: (id: string) => void) => (listeners.add(l), () => listeners.delete(l)),
    emit: (id: string) => [...listeners].forEach((l) => l(id)),
  };
}

describe('the board, unit by unit', () => {
  it("a reset of the feed re-sends a task's view even with no new event (its progress may have changed)", async () => {
    // The task's view changes without an event (progress, cost); the feed then says only "reset" twice.
    let progress = 0;
    const view = () => ({ task_id: 't_a', cursor: 3, state: 'running', final: false, progress: `p${progress++}` });
    async function* watch(_v: unknown, _s: unknown, signal: AbortSignal): AsyncGenerator<BoardChange> {
      yield { seq: 1, reset: true };
      yield { seq: 2, reset: true };
      await new Promise((r) => signal.addEventListener('abort', r));
    }
    const tasks = { feed: { seq: 0, boot: 'b' }, follow: async () => view(), watch };
    const streams = new BoardStreams(tasks as unknown as ConstructorParameters<typeof BoardStreams>[0]);
    const req = Object.assign(new EventEmitter(), { url: '/x?cursor=3', headers: {} });
    const sent: string[] = [];
    const res = Object.assign(new EventEmitter(), { writeHead() {}, end() {}, write: (t: string) => sent.push(t) });
    const session = { id: 's', who: {} } as unknown as BoardSession;
    const done = streams.task(req as unknown as IncomingMessage, res as unknown as ServerResponse, session, 't_a');
    await expect.poll(() => sent.filter((t) => t.includes('event: task')).length).toBe(3);
    const shown = sent.filter((t) => t.includes('event: task')).map((t) => /"progress":"(p\d)"/.exec(t)?.[1]);
    expect(new Set(shown).size).toBe(3);
    streams.closeAll();
    await done;
  });

  it('--board-port takes a port for stdio servers; a bad value or --http beside it is one clear error', () => {
    expect(parseCliArgs(['serve', '--board-port', '0']).options['board-port']).toBe('0');
    expect(() => parseCliArgs(['serve', '--board-port', 'x'])).toThrow(/--board-port needs a port number 0-65535/);
    expect(() => parseCliArgs(['serve', '--board-port', '70000'])).toThrow(UsageError);
    expect(() => parseCliArgs(['serve', '--http', '127.0.0.1:0', '--board-port', '1'])).toThrow(/same port, at \//);
    expect(() => parseCliArgs(['ask', '--board-port', '1', 'q'])).toThrow(/unknown option --board-port for ask/);
  });

  it(
    'the change feed gives what changed after a position, once per task, and says when it cannot reach ' + 'back',
    async () => {
      const { listeners, watch, emit } = changeSource();
      const feed = new ChangeFeed(watch);
      feed.retain();
      emit('t_a');
      const at = feed.seq;
      emit('t_b');
      emit('t_c');
      emit('t_b');
      expect(feed.since(at)).toEqual(['t_b', 't_c']);
      expect(feed.since(feed.seq)).toEqual([]);
      expect(feed.since(feed.seq + 1)).toBeUndefined();
      expect(parsePosition(`${feed.boot}:${at}`, feed.boot)).toBe(at);
      expect(parsePosition('0000beef:3', feed.boot === '0000beef' ? 'x' : feed.boot)).toBeUndefined();
      feed.release();
      expect(listeners.size).toBe(0);
    },
  );

  it(
    'the change feed hands a change out at once, takes one that came before the wait, and paces a busy ' + 'watcher',
    async () => {
      const { watch, emit } = changeSource();
      const feed = new ChangeFeed(watch);
      feed.retain();
      const signal = new AbortController().signal;
      // Which settles first: the feed's wait, or a timer of `ms` set at the same moment.
      const first = (p: Promise<boolean>, ms: number) =>
        Promise.race([p.then(() => 'feed'), new Promise((r) => setTimeout(() => r('timer'), ms))]);
      // After a quiet spell: no fixed delay, the change is out within the same turn of the event loop.
      const quiet = feed.next(signal, feed.seq);
      emit('t_a');
      expect(await first(quiet, 10)).toBe('feed');
      // A change made before the watcher waits again is not missed.
      const at = feed.seq;
      emit('t_b');
      expect(await first(feed.next(signal, at), 2000)).toBe('feed');
      // A busy watcher gets its next batch no earlier than it asked.
      const paced = feed.next(signal, feed.seq, Date.now() + 200);
      emit('t_c');
      expect(await first(paced, 20)).toBe('timer');
      expect(await paced).toBe(true);
      feed.release();
    },
  );

  it('the change feed counts nothing while nobody watches: a position from before such a gap is too old', () => {
    const { listeners, watch, emit } = changeSource();
    const feed = new ChangeFeed(watch);
    feed.retain();
    emit('t_a');
    const at = feed.seq;
    feed.release();
    emit('t_b');
    feed.retain();
    expect(feed.since(at)).toBeUndefined();
    expect(feed.since(0)).toBeUndefined();
    expect(feed.since(feed.seq)).toEqual([]);
    emit('t_c');
    const now = feed.seq;
    // A second watcher joining does not start a new stretch.
    feed.retain();
    expect(feed.since(now - 1)).toEqual(['t_c']);
    feed.release();
    feed.release();
    // Position 0 is handed out too (the first page ever): a change while that page was away is a gap as well.
    const fresh = new ChangeFeed(watch);
    fresh.retain();
    const first = fresh.seq;
    fresh.release();
    for (const l of listeners) l('t_whileaway');
    fresh.retain();
    expect(fresh.since(first)).toBeUndefined();
    expect(fresh.since(fresh.seq)).toEqual([]);
    fresh.release();
  });

  it(
    "the board's watch gives a reset (the whole list) to a page back after a gap, and to one more changes " +
      'behind than the feed keeps',
    async () => {
      const { listeners, watch, emit } = changeSource();
      const engine = {
        config: defaultConfig({}, tmpdir()),
        registry: {
          watchAll: watch,
          visible: (id: string) => ({ id }),
        },
      } as unknown as Engine;
      const tasks = new RegistryBoardTasks(engine, { rateKey: () => 'k' });
      const viewer = { principal: 'local', admin: true };
      // The next change a watch hands out, or "none" when none comes within `ms`.
      const within = (p: Promise<IteratorResult<BoardChange>>, ms: number) =>
        Promise.race([p.then((r) => r.value as BoardChange), new Promise((r) => setTimeout(() => r('none'), ms))]);
      const page = () => new AbortController().signal;

      const first = tasks.watch(viewer, undefined, page())[Symbol.asyncIterator]();
      expect(await within(first.next(), 2000)).toMatchObject({ reset: true });
      const seen = first.next();
      emit('t_a');
      const last = (await within(seen, 2000)) as BoardChange;
      expect(last).toMatchObject({ ids: ['t_a'] });
      // The page's only connection drops: nobody watches while t_b changes.
      await first.return!(undefined);
      expect(listeners.size).toBe(0);
      emit('t_b');
      // It reconnects with its Last-Event-ID: it cannot be told what changed, so it gets the whole list.
      const again = tasks.watch(viewer, last.seq, page())[Symbol.asyncIterator]();
      expect(await within(again.next(), 2000)).toMatchObject({ reset: true });
      // More changes between two wakes than the feed keeps: a reset, not silence.
      const behind = again.next();
      for (let i = 0; i <= 5000; i++) emit(`t_${i}`);
      expect(await within(behind, 2000)).toMatchObject({ reset: true });
      // And then the changes one by one again.
      const after = again.next();
      emit('t_z');
      expect(await within(after, 2000)).toMatchObject({ ids: ['t_z'] });
      await again.return!(undefined);
      expect(listeners.size).toBe(0);
    },
  );

  it('a diff is split per file with its added and removed lines (binary files counted apart)', () => {
    const numstat = '2\t0\tnew.txt\0' + '0\t1\tREADME\0' + '-\t-\timg.png\0';
    const patch = [
      'diff --git a/README b/README',
      'index 1..2 100644',
      '--- a/README',
      '+++ b/README',
      '@@ -1,2 +1 @@',
      ' base',
      '-second',
      'diff --git a/new.txt b/new.txt',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/new.txt',
      '@@ -0,0 +1,2 @@',
      '+one',
      '+two',
      '',
    ].join('\n');
    const files = parseDiff(numstat, patch);
    expect(files.map((f) => [f.path, f.added, f.removed, f.binary])).toEqual([
      ['new.txt', 2, 0, false],
      ['README', 0, 1, false],
      ['img.png', 0, 0, true],
    ]);
    expect(files[0]!.patch).toBe('@@ -0,0 +1,2 @@\n+one\n+two\n');
    expect(files[1]!.patch).toBe('@@ -1,2 +1 @@\n base\n-second\n');
  });

  it(
    "the diff flags a file that configures the user's tools (a .claude hook at any depth), and only such " + 'files',
    () => {
      const numstat = ['3\t0\tsub/.claude/settings.json', '1\t0\tsub/code.txt', '1\t0\t.mcp.json', ''].join('\0');
      const files = parseDiff(numstat, '');
      expect(files.map((f) => [f.path, !!f.tool_config])).toEqual([
        ['sub/.claude/settings.json', true],
        ['sub/code.txt', false],
        ['.mcp.json', true],
      ]);
      expect(files[0]!.tool_config).toMatch(/hooks/);
    },
  );
});
