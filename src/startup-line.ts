import type { Engine } from './engine.js';
import { launchCommand } from './launch-command.js';

// The one friendly stderr line at start-up: which claude, where state lives, how to add the server.
export function startupLine(engine: Engine): string {
  let claude: string;
  try {
    const bin = engine.claudeBinary();
    claude = `claude: ${bin.path} (from ${bin.source})`;
  } catch (err) {
    engine.log.error({ err: (err as Error).message }, 'claude not found');
    claude = 'claude: NOT FOUND (tool calls will fail until it is installed; see the log line above)';
  }
  return (
    `claude-tiers ready on stdio · ${claude} · state: ${engine.config.stateDir} · add to Claude Code: claude ` +
    `mcp add claude-tiers -- ${launchCommand()}`
  );
}
