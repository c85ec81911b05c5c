import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textOf } from '../support/harness.js';
import { serverPerFile } from '../support/per-file.js';

// A shared-files run's spec is worked out once (sharedSpec) and names its files in <stateDir>/spare-files/<hash>;
// before the change each run checked the folder was there (planShared's existsSync) and wrote it again when not.
// Once that folder is gone (the user tidies the state dir; a comprehensive task's Bash removes it), every later run
// of that spec fails: claude 2.1.330 refuses "Settings file not found" (it fails closed: no leak), for every token,
// until the server restarts.
const f = serverPerFile();

const ask = (prompt: string) => f.server.client.callTool({ name: 'quick_answer', arguments: { prompt } });

describe("a shared-files run's folder removed while the server runs", () => {
  it('is made again for the next run', async () => {
    const first = await ask('hi');
    expect(first.isError, textOf(first)).toBeFalsy();
    rmSync(join(f.server.stateDir, 'spare-files'), { recursive: true, force: true });
    const next = await ask('again');
    console.log('next:', next.isError, textOf(next).slice(0, 300));
    expect(next.isError, textOf(next)).toBeFalsy();
  }, 120_000);
});
