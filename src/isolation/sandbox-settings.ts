import { join, resolve } from 'node:path';
import type { TierConfig } from '../config/schema.js';
import { guardHooks } from './path-guard.js';
import { hiddenRules, ownInsideStateDir, type SandboxScope } from './sandbox-hidden.js';

// The .claude folder a task must not write, its cwd's: claude 2.1.330 itself keeps Bash off settings*.json, hooks/,
// agents/ and a few more names there, not off the rest of it. Only the cwd's, the sandbox's one writable folder (a
// path named outside it would leave a mount point). A .claude deeper in the tree stays writable to Bash (bwrap takes
// no patterns): no run of this server loads one (--setting-sources=user), and the path guard keeps the file tools out.
function claudeFolders(scope: SandboxScope): string[] {
  return [join(resolve(scope.cwd ?? scope.ownDir), '.claude')];
}

// Edit and Write deny rules for `paths` and everything below them (`//` starts an absolute path).
const editDeny = (paths: readonly string[]): string[] =>
  paths.flatMap((p) => ['Edit', 'Write'].flatMap((tool) => [`${tool}(/${p})`, `${tool}(/${p}/**)`]));

// The `--settings` object that turns on Claude Code's own sandbox for a tier (keys measured against claude 2.1.330).
// The sandbox's writable folder and blockWritesOutsideWorkingDirectories both take the working directory from the
// process's cwd (the task's worktree). With a scope, the state dir (less the task's own folder) and the user's config
// are hidden from Bash and from the file tools. `readOnly` (serverCode: the claude binary and the server's own code,
// which the server runs outside any sandbox) is never writable to Bash, nor, with the Read rules of a scope, to the
// file tools. Returns undefined when the tier has no enabled sandbox.
export function sandboxSettings(
  tier: TierConfig,
  scope?: SandboxScope,
  readOnly: readonly string[] = [],
): Record<string, unknown> | undefined {
  if (!tier.sandbox?.enabled) return undefined;
  const hidden = scope ? hiddenRules(scope) : { denyRead: [], allowRead: [], readDeny: [] };
  const denyWrite = [...(scope ? claudeFolders(scope) : []), ...readOnly];
  const fs = {
    ...(hidden.denyRead.length ? { denyRead: hidden.denyRead, allowRead: hidden.allowRead } : {}),
    ...(denyWrite.length ? { denyWrite } : {}),
  };
  return {
    sandbox: {
      enabled: true,
      // Never run Bash unconfined when bubblewrap or socat is missing: claude refuses to start instead.
      failIfUnavailable: true,
      autoAllowBashIfSandboxed: true,
      // Without this the model may set Bash's dangerouslyDisableSandbox, and under bypassPermissions nothing refuses
      // it.
      allowUnsandboxedCommands: false,
      network: {
        // Without strictAllowlist a host off the list is "asked about", and bypassPermissions answers yes.
        strictAllowlist: true,
        allowedDomains: [...tier.sandbox.network.allowedDomains],
      },
      // bwrap lays an empty tmpfs over each denyRead path and binds each allowRead path below one back in; each
      // denyWrite path is bound read-only (one that does not exist yet cannot be made).
      ...(Object.keys(fs).length ? { filesystem: fs } : {}),
    },
    permissions: {
      // Write, Edit and NotebookEdit refused outside the working directories, in every permission mode.
      blockWritesOutsideWorkingDirectories: true,
      // WebFetch runs in claude's own process, outside the sandbox and its network allow-list. The Read rules keep
      // the file tools (which run in claude's process too) out of what the sandbox hides from Bash.
      deny: ['WebFetch', 'WebSearch', ...hidden.readDeny, ...(hidden.readDeny.length ? editDeny(readOnly) : [])],
    },
    // The Read rules are fixed at start; the guard also refuses folders made later (another task's worktree).
    ...(scope ? { hooks: guardHooks(scope) } : {}),
  };
}

// The `--settings` object of a run without the sandbox, any tier: its file tools (Read, Grep, Glob, Edit; in claude's
// process) kept off the state dir (less the run's own folder) and the user's config by the same Read deny rules as a
// sandboxed run's. With its own folder outside the state dir, one rule hides the whole state dir, and what is made in
// it later too (another task's records, folders): no guard process per file-tool call. With its own folder inside (a
// worktree or clone), the rules name the entries beside it at start, and the path guard refuses the ones made later.
// Bash, where a tier has it, is not held by any of this (README, Security model). Undefined when nothing is hidden.
export function fileToolSettings(scope: SandboxScope): Record<string, unknown> | undefined {
  const { readDeny } = hiddenRules(scope);
  if (!readDeny.length) return undefined;
  return { permissions: { deny: readDeny }, ...(ownInsideStateDir(scope) ? { hooks: guardHooks(scope) } : {}) };
}
