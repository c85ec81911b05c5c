// `npm run lint`: the type check of the tests (and, through them, everything else), eslint and prettier --check. Each
// is one process on one core, so they run side by side (~45 s of CPU took ~45 s one after the other, ~25 s side by side
// on 2 cores); each one's output is printed whole, in this order, once it ends. Fails when any of them fails.
import { spawn } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const CHECKS = [
  ['tsc', '-p', 'test/tsconfig.json'],
  ['eslint', '.'],
  ['prettier', '--check', '.'],
];

// The local binaries, also when this runs without npm.
const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}` };

// Runs one check, its output kept until it ends.
function run(argv) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => out.push(chunk));
    child.on('error', (err) => resolve({ argv, status: 1, text: `${err.message}\n` }));
    child.on('close', (code) => resolve({ argv, status: code ?? 1, text: Buffer.concat(out).toString() }));
  });
}

const results = await Promise.all(CHECKS.map(run));
for (const { argv, status, text } of results) {
  process.stdout.write(`> ${argv.join(' ')}${status === 0 ? '' : ` (exit ${status})`}\n${text}`);
}
// exitCode, not exit(): exit() would drop output still queued for a pipe (`npm run lint | tail`).
process.exitCode = results.some((r) => r.status !== 0) ? 1 : 0;
