import type { TierConfig } from '../config/schema.js';

// The `--settings` object that turns on Claude Code's own sandbox for a tier (keys measured against claude 2.1.330).
// No cwd is needed: the sandbox's writable folder and blockWritesOutsideWorkingDirectories both take the working
// directory from the process's cwd (the task's worktree). Returns undefined when the tier has no enabled sandbox.
export function sandboxSettings(tier: TierConfig): Record<string, unknown> | undefined {
  if (!tier.sandbox?.enabled) return undefined;
  return {
    sandbox: {
      enabled: true,
      // Never run Bash unconfined when bubblewrap or socat is missing: claude refuses to start instead.
      failIfUnavailable: true,
      autoAllowBashIfSandboxed: true,
      // Without this the model may set Bash's dangerouslyDisableSandbox, and under bypassPermissions nothing refuses it.
      allowUnsandboxedCommands: false,
      network: {
        // Without strictAllowlist a host off the list is "asked about", and bypassPermissions answers yes.
        strictAllowlist: true,
        allowedDomains: [...tier.sandbox.network.allowedDomains],
      },
    },
    permissions: {
      // Write, Edit and NotebookEdit refused outside the working directories, in every permission mode.
      blockWritesOutsideWorkingDirectories: true,
      // WebFetch runs in claude's own process, outside the sandbox and its network allow-list.
      deny: ['WebFetch', 'WebSearch'],
    },
  };
}
