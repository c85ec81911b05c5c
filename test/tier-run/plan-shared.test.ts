import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { planShared } from '../../src/tiers.js';

describe('planShared', () => {
  it(
    "writes a tier's files once, in a 0600 file of a folder named by their content; later runs write " + 'nothing',
    async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'ct-plan-'));
      const cwd = mkdtempSync(join(tmpdir(), 'ct-plan-cwd-'));
      const scope = { stateDir, ownDir: cwd, hidden: [] };
      const tier = {
        ...defaultConfig({}, tmpdir()).tiers.speed!,
        contextMode: 'minimal' as const,
        systemPrompt: 'Be brief.',
      };
      const first = await planShared('speed', tier, cwd, scope);
      expect(readFileSync(first.systemPromptFile!, 'utf8')).toBe('Be brief.');
      expect(statSync(first.systemPromptFile!).mode & 0o777).toBe(0o600);
      const base = join(stateDir, 'spare-files');
      const seen = statSync(base).mtimeMs;
      const fileSeen = statSync(first.systemPromptFile!).mtimeMs;
      // Not a clock bound: the folder's own mtime moves whenever anything is made or removed in it.
      await new Promise((r) => setTimeout(r, 20));
      const again = await planShared('speed', tier, cwd, scope);
      expect(again).toEqual(first);
      expect(statSync(base).mtimeMs).toBe(seen);
      expect(statSync(first.systemPromptFile!).mtimeMs).toBe(fileSeen);
      expect(readdirSync(base)).toHaveLength(1);
      // Other content, another folder.
      const other = await planShared('speed', { ...tier, systemPrompt: 'Be thorough.' }, cwd, scope);
      expect(other.systemPromptFile).not.toBe(first.systemPromptFile);
      expect(readFileSync(other.systemPromptFile!, 'utf8')).toBe('Be thorough.');
      expect(readdirSync(base)).toHaveLength(2);
    },
  );
});
