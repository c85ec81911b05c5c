// Lets `npm test` skip a build that would change nothing: `npm ci` (prepare) has just built, and the build is ~20 s of
// CPU. `--begin` (the first step of `npm run build`) hashes the build's inputs before anything is compiled; `--write`
// (the last step) records that hash with one of dist/. Hashing the inputs at the start, not the end, means a source
// edited while the build runs is not recorded as built. Without a flag, the script runs `npm run build` unless both
// hashes still match, so any edit to a source, a config or the installed packages, and any change to dist/ itself
// (deleted, edited, partly rebuilt), builds again. The stamp lives in node_modules/.cache, which a fresh clone does not
// have.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// One stamp per checkout: git worktrees may share one node_modules.
const checkout = createHash('sha256').update(root).digest('hex').slice(0, 12);
const stampFile = join(root, 'node_modules', '.cache', 'claude-tiers', `build-stamp-${checkout}.json`);
// The input hash taken by `--begin`, waiting for the build to end.
const beginFile = `${stampFile}.begin`;
// Everything the build reads: tsc's and the web build's sources and configs, the build scripts, and the packages
// (as the lock file names them).
const INPUTS = ['src', 'tools', 'bench', 'examples', 'test/support', 'web', 'scripts'];
const INPUT_FILES = ['tsconfig.json', 'package.json', 'package-lock.json'];
const SKIP = new Set(['bench/results']);

// Paths and contents of every file under the given folders (relative to the root, sorted), hashed together.
function hashOf(dirs, files = []) {
  const found = [...files.filter((f) => existsSync(join(root, f)))];
  const walk = (rel) => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = `${rel}/${entry.name}`;
      if (SKIP.has(path)) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) found.push(path);
    }
  };
  for (const dir of dirs) if (existsSync(join(root, dir))) walk(dir);
  const hash = createHash('sha256');
  for (const path of found.sort())
    hash
      .update(`${path}\0`)
      .update(readFileSync(join(root, path)))
      .update('\0');
  return hash.digest('hex');
}

const current = () => ({ inputs: hashOf(INPUTS, INPUT_FILES), dist: hashOf(['dist']) });

if (process.argv.includes('--begin')) {
  mkdirSync(dirname(stampFile), { recursive: true });
  rmSync(stampFile, { force: true });
  writeFileSync(beginFile, `${hashOf(INPUTS, INPUT_FILES)}\n`);
} else if (process.argv.includes('--write')) {
  // Without a `--begin` hash (a build run by hand, step by step) nothing is recorded: the next `npm test` builds.
  let inputs = null;
  try {
    inputs = readFileSync(beginFile, 'utf8').trim();
  } catch {
    // No `--begin` before this build.
  }
  rmSync(beginFile, { force: true });
  if (inputs) writeFileSync(stampFile, `${JSON.stringify({ inputs, dist: hashOf(['dist']) })}\n`);
} else {
  let stamp = null;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    // No stamp yet (a fresh clone) or an unreadable one: build.
  }
  const now = existsSync(join(root, 'dist')) ? current() : null;
  if (stamp && now && stamp.inputs === now.inputs && stamp.dist === now.dist) {
    process.stderr.write(`dist/ is up to date with the sources (${relative(root, stampFile)}): no build\n`);
  } else {
    const run = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    process.exit(run.status ?? 1);
  }
}
