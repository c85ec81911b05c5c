import type { LoadedConfig } from '../config/load.js';
import { shownUrl } from '../cluster/shown-url.js';
import { printOut } from './output.js';

// `--print-config`: the effective config, where each value came from, and what a project config tried to set but may
// not. The HTTP token, the Redis password and the notify secret are never printed (the output may be pasted into an
// issue).
export function printConfig(loaded: LoadedConfig): number {
  const { httpToken, httpTokens, redis, notify, ...rest } = loaded.config;
  // The Redis URL may hold a password: shown with it replaced.
  const tokens = httpTokens.map((t) => ({ ...t, token: `(set, ${t.token.length} characters, not shown)` }));
  const config = {
    ...rest,
    httpTokens: tokens,
    ...(httpToken ? { httpToken: `(set, ${httpToken.length} characters, not shown)` } : {}),
    ...(redis ? { redis: { ...redis, url: shownUrl(redis.url) } } : {}),
    ...(notify ? { notify: { ...notify, secret: '(set, not shown)' } } : {}),
  };
  const ignored = loaded.ignored.map((i) => ({
    key: i.key,
    file: i.file,
    why:
      `${i.why}; a project config cannot set it, only your own config (--config, $CLAUDE_TIERS_CONFIG, ` +
      `$XDG_CONFIG_HOME/claude-tiers/config.json)`,
  }));
  const rejected = loaded.projectRejected ? { projectRejected: loaded.projectRejected } : {};
  const files = { file: loaded.file ?? null, projectFile: loaded.projectFile ?? null, ...rejected };
  printOut(JSON.stringify({ ...files, ignored, config, source: loaded.provenance }, null, 2));
  return 0;
}
