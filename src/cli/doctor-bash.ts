import type { Config } from '../config/schema.js';

// A tier that lets Bash run without asking and outside Claude Code's sandbox runs any command as the server's user:
// acceptEdits asks only about tools missing from allowedTools, and Bash is in the comprehensive tier's. One line
// (never a failure: it is the default) so whoever picks a tier learns it where they check their set-up.
export function unconfinedBashCheck(config: Config): { name: string; ok: boolean; detail: string } {
  const unconfined = Object.entries(config.tiers)
    .filter(([, t]) => !t.sandbox?.enabled)
    .filter(([, t]) => t.allowedTools.includes('Bash') || t.permissionMode === 'bypassPermissions' || t.dangerouslySkipPermissions)
    .map(([name]) => name);
  if (!unconfined.length) return { name: 'bash', ok: true, detail: 'no tier runs Bash unconfined without asking' };
  const which = `tier${unconfined.length > 1 ? 's' : ''} ${unconfined.join(', ')}`;
  const sandboxed = Object.entries(config.tiers).find(([, t]) => t.sandbox?.enabled)?.[0];
  const instead = sandboxed ? `use the ${sandboxed} tier (Bash inside Claude Code's sandbox)` : 'use a tier with its sandbox enabled';
  return { name: 'bash', ok: true, detail: `warning: ${which} run${unconfined.length > 1 ? '' : 's'} any Bash command as the server's user without asking, unconfined (files, network, the state dir); for prompts or repositories you do not trust, ${instead}` };
}

