import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiPerFile } from '../support/per-file.js';
import { configFile, runCli, serverEnv, startServer, textOf } from '../support/harness.js';

// Issue 19, item 14: MCP clients start the server in folders nobody has read. A project config's problems are warnings
// (one stderr line naming the file, the key and the fix) and that file is ignored; a BOM is not a problem; the user's
// own config stays strict.
const file = apiPerFile();
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
// No config named: the folder's claude-tiers.config.json is the only config, as for an MCP client started there.
const projectEnv = () => ({ CLAUDE_TIERS_CONFIG: '', XDG_CONFIG_HOME: tmp('ct-xdg-empty-') });
type Printed = {
  projectFile: string | null;
  projectRejected?: string;
  config: { limits: { maxQueue: number }; tiers: Record<string, { timeoutS: number }> };
};
const BOM = '\uFEFF';

describe('a project config with a problem', () => {
  it(
    'an unknown key: the server still starts in that folder and answers; one warning names file, key and fix; ' +
      'the file is ignored',
    async () => {
      const project = tmp('ct-project-bad-');
      const path = configFile({ limits: { maxQueue: 7 }, tiers: { speed: { timeoutS: 33, fooBar: true } } }, project);
      const s = await startServer(file.api, { cwd: project, env: projectEnv() });
      try {
        const r = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: '[[text:still serving]]' } });
        expect(r.isError, textOf(r)).toBeFalsy();
        expect(textOf(r)).toBe('still serving');
        const warnings = s
          .stderr()
          .split('\n')
          .filter((l) => l.includes('warning') && l.includes(path));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(
          /all of it was ignored: tiers\.speed\.fooBar: not a config key .*Fix or remove that key/,
        );
      } finally {
        await s.close();
      }
      const { env } = await serverEnv(file.api, { env: projectEnv() });
      const printed = await runCli(['--print-config'], { env, cwd: project });
      expect(printed.code, printed.stderr).toBe(0);
      const out = JSON.parse(printed.stdout) as Printed;
      expect(out.projectRejected).toMatch(/tiers\.speed\.fooBar: not a config key/);
      // Ignored whole: its valid keys do not apply either.
      expect(out.config.limits.maxQueue).not.toBe(7);
      expect(out.config.tiers.speed!.timeoutS).not.toBe(33);
    },
  );

  it('invalid JSON, a wrong type, or a non-object: exit 0 with a warning, never exit 2', async () => {
    for (const [text, why] of [
      ['{"limits": {"maxQueue": 7}', /not valid JSON/],
      [JSON.stringify({ limits: { maxQueue: 'many' } }), /limits\.maxQueue: .*Fix or remove/],
      ['5', /expected a JSON object/],
    ] as const) {
      const project = tmp('ct-project-bad-');
      writeFileSync(join(project, 'claude-tiers.config.json'), text);
      const { env } = await serverEnv(file.api, { env: projectEnv() });
      const r = await runCli(['--print-config'], { env, cwd: project });
      expect(r.code, `${text}: ${r.stderr}`).toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).toContain(join(project, 'claude-tiers.config.json'));
    }
  });

  it('a BOM-prefixed project config and a BOM-prefixed user config are both read and applied', async () => {
    const project = tmp('ct-project-bom-');
    writeFileSync(join(project, 'claude-tiers.config.json'), `${BOM}${JSON.stringify({ limits: { maxQueue: 7 } })}`);
    const { env } = await serverEnv(file.api, { env: projectEnv() });
    const r = await runCli(['--print-config'], { env, cwd: project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as Printed).config.limits.maxQueue).toBe(7);
    const user = join(tmp('ct-user-bom-'), 'config.json');
    writeFileSync(user, `${BOM}${JSON.stringify({ limits: { maxQueue: 9 } })}`);
    const mine = await runCli(['--print-config'], { env: { ...env, CLAUDE_TIERS_CONFIG: user } });
    expect(mine.code, mine.stderr).toBe(0);
    expect((JSON.parse(mine.stdout) as Printed).config.limits.maxQueue).toBe(9);
  });

  it("the user's own config stays strict: an unknown key there is exit 2, naming the key and the file", async () => {
    const user = configFile({ tiers: { speed: { fooBar: true } } });
    const { env } = await serverEnv(file.api, { env: { CLAUDE_TIERS_CONFIG: user } });
    const r = await runCli(['--print-config'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tiers.speed.fooBar: not a config key');
    expect(r.stderr).toContain(user);
  });
});
