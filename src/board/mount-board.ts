import type { Config } from '../config/schema.js';
import type { Engine, Viewer } from '../engine.js';
import type { HttpIdentity } from '../mcp/http/check-request.js';
import type { Logger } from '../log.js';
import { createBoardHandler } from './board-http.js';
import { OpsPanel } from './ops-panel.js';
import { RegistryBoardTasks } from './registry-board-tasks.js';
import type { ConflictFinder } from './board-tasks.js';

// The board's request handler, built once the engine exists.
export type BoardHandler = ReturnType<typeof createBoardHandler>;

// Builds the board over an engine: the tasks seam (today's registry), the operator panel, the login tokens. The
// rate-limit key of a viewer is the one its MCP calls use, so the board is no way around the limits.
export function mountBoard(
  engine: Engine,
  config: Config,
  opts: { tokens: HttpIdentity[]; log: Logger; rateKey: (v: Viewer) => string; conflicts?: ConflictFinder },
): BoardHandler {
  const conflicts = opts.conflicts ?? ((viewer: Viewer, id: string) => engine.registry.conflictsOf(id, viewer));
  const tasks = new RegistryBoardTasks(engine, { rateKey: opts.rateKey, conflicts });
  const principals = () => [...new Set(opts.tokens.map((t) => t.principal))];
  const ops = new OpsPanel(engine, { principals, rateKey: opts.rateKey });
  return createBoardHandler({
    tasks,
    ops,
    tokens: opts.tokens,
    roots: config.allowedRoots,
    tiers: Object.keys(config.tiers),
    log: opts.log,
  });
}
