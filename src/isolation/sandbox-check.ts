import { ToolError } from '../errors.js';

// The programs Claude Code's Linux sandbox needs, and the Debian package each comes in.
export const SANDBOX_TOOLS = [
  { bin: 'bwrap', pkg: 'bubblewrap' },
  { bin: 'socat', pkg: 'socat' },
] as const;

// Where a program is found on PATH (shared with the containment probe).
export { findOnPath } from '../path-lookup.js';
import { findOnPath } from '../path-lookup.js';

export type SandboxToolsCheck =
  { ok: true; found: Record<string, string> } | { ok: false; missing: string[]; packages: string[]; message: string };

// Whether a sandboxed tier's task can start: its sandbox needs bwrap and socat on claude's PATH. Checked before
// claude is spawned, so a sandboxed task is refused rather than run unconfined (claude's failIfUnavailable is the
// second guard).
export function checkSandboxTools(env: NodeJS.ProcessEnv): SandboxToolsCheck {
  const found: Record<string, string> = {};
  const missing = SANDBOX_TOOLS.filter((t) => {
    const path = findOnPath(t.bin, env);
    if (path) found[t.bin] = path;
    return !path;
  });
  if (!missing.length) return { ok: true, found };
  const packages = missing.map((t) => t.pkg);
  const message =
    `sandbox unavailable: ${missing.map((t) => t.bin).join(' and ')} not found on PATH; install the Debian ` +
    `package${packages.length > 1 ? 's' : ''} ${packages.join(' and ')} (apt-get install ` +
    `-y ${packages.join(' ')}); the task was not started`;
  return { ok: false, missing: missing.map((t) => t.bin), packages, message };
}

// The same check as a guard: throws a ToolError naming the packages, for the engine to call before claude starts.
export function requireSandboxTools(env: NodeJS.ProcessEnv): void {
  const check = checkSandboxTools(env);
  if (!check.ok) throw new ToolError(check.message);
}
