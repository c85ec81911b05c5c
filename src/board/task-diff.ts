import { git } from '../isolation/git.js';
import { toolConfigReason } from '../isolation/tool-config.js';
import type { FileDiff } from './board-tasks.js';

const MAX_PATCH = 200_000;
const MAX_FILES = 300;

// An isolated task's changes (base..head of its branch) per file, with added and removed lines. Read with external
// diff drivers and textconv off: the branch is the task's, and nothing in it may run on the server.
export async function taskDiffFiles(repoRoot: string, base: string, head: string): Promise<FileDiff[]> {
  const range = `${base}..${head}`;
  const safe = ['-c', 'core.fsmonitor=false', 'diff', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames'];
  const numstat = await git(repoRoot, [...safe, '--numstat', '-z', range]);
  const patch = await git(repoRoot, [...safe, range]);
  return parseDiff(numstat, patch);
}

// Joins `--numstat -z` counts with the unified diff's per-file parts.
export function parseDiff(numstat: string, patch: string): FileDiff[] {
  const files: FileDiff[] = [];
  for (const entry of numstat.split('\0')) {
    const m = /^(-|\d+)\t(-|\d+)\t([\s\S]+)$/.exec(entry);
    if (!m) continue;
    const binary = m[1] === '-';
    const toolConfig = toolConfigReason(m[3]!);
    files.push({
      path: m[3]!,
      added: binary ? 0 : Number(m[1]),
      removed: binary ? 0 : Number(m[2]),
      patch: '',
      binary,
      ...(toolConfig ? { tool_config: toolConfig } : {}),
    });
    if (files.length >= MAX_FILES) break;
  }
  const parts = patch.split(/^(?=diff --git )/m);
  for (const f of files) {
    const part = parts.find((p) => p.startsWith(`diff --git a/${f.path} b/${f.path}\n`));
    if (!part) continue;
    const hunks = part.slice(part.indexOf('\n@@') + 1 || part.length);
    f.patch = hunks.length > MAX_PATCH ? `${hunks.slice(0, MAX_PATCH)}\n… (cut)` : hunks;
  }
  return files;
}
