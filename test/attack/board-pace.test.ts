import { describe, expect, it } from 'vitest';
import { RegistryBoardTasks } from '../../src/board/registry-board-tasks.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { Engine } from '../../src/engine.js';

// The board's change feed paces a watcher only once something was sent to it (`sent + PACE_MS`, `sent` set on a
// yield). A watcher that sees none of the changes (another token's board: every change is a task of token A's) is
// never paced: with the old fixed 40 ms wait gone, it wakes at each turn of the event loop that had a change, and
// each wake reads the whole feed (since(): up to 5000 entries) and checks each id's visibility. One token's chatty
// tasks then cost every other open board a full feed scan per change, on the server's event loop.
describe("another token's busy tasks", () => {
  it('wake an idle board watcher no more often than a busy one is paced (40 ms)', async () => {
    const listeners = new Set<(id: string) => void>();
    let checks = 0;
    const engine = {
      config: defaultConfig({}, '/'),
      registry: {
        watchAll: (l: (id: string) => void) => (listeners.add(l), () => listeners.delete(l)),
        // Token B sees only its own tasks; every change below is token A's.
        visible: (id: string) => (checks++, id.startsWith('b_')),
      },
    } as unknown as Engine;
    const board = new RegistryBoardTasks(engine, { rateKey: () => 'b' });
    const stop = new AbortController();
    const watching = (async () => {
      for await (const change of board.watch({ principal: 'b' } as never, undefined, stop.signal)) void change;
    })();
    // Token A's task: one change per turn of the event loop for 400 ms.
    const end = Date.now() + 400;
    let n = 0;
    while (Date.now() < end) {
      for (const l of listeners) l(`a_${n++ % 50}`);
      await new Promise((r) => setImmediate(r));
    }
    stop.abort();
    await watching;
    console.log(JSON.stringify({ changes: n, visibilityChecks: checks }));
    // Paced like a busy watcher: about 400 / 40 = 10 wakes, each checking the ids changed since the last (<= 50).
    expect(checks).toBeLessThan(3 * 10 * 50);
  });
});
