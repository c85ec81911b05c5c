import type { Config, TierConfig } from '../config/schema.js';

// Bash runs without asking when it is pre-allowed or when permissions are skipped altogether.
const bashUnasked = (t: TierConfig): boolean =>
  t.allowedTools.includes('Bash') || t.permissionMode === 'bypassPermissions' || t.dangerouslySkipPermissions;

// A tier that lets Bash run without asking and outside Claude Code's sandbox runs any command as the server's user:
// acceptEdits asks only about tools missing from allowedTools, and Bash is in the comprehensive tier's. One line
// (never a failure: it is the default) so whoever picks a tier learns it where they check their set-up.
export function unconfinedBashCheck(config: Config): { name: string; ok: boolean; detail: string } {
  const tiers = Object.entries(config.tiers);
  const unconfined = tiers.filter(([, t]) => !t.sandbox?.enabled && bashUnasked(t)).map(([name]) => name);
  if (!unconfined.length) return { name: 'bash', ok: true, detail: 'no tier runs Bash unconfined without asking' };
  const which = unconfined.length > 1 ? `tiers ${unconfined.join(', ')} run` : `tier ${unconfined[0]} runs`;
  const sandboxed = tiers.find(([, t]) => t.sandbox?.enabled)?.[0];
  const instead = sandboxed
    ? `use the ${sandboxed} tier (Bash inside Claude Code's sandbox)`
    : 'use a tier with its sandbox on';
  const detail =
    `warning: ${which} any Bash command as the server's user without asking, unconfined (files, network, ` +
    `the state dir); for prompts or repositories you do not trust, ${instead}`;
  return { name: 'bash', ok: true, detail };
}
