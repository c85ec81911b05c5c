import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DYNAMIC_SPECIFIER, moduleSpecifiers, packageOf } from './module-specifiers.js';

// The house rules of the code layout, checked on the source itself: one spawner, one parser, folder dependencies,
// no import cycle (type-only imports included), tools reach the engine only through its facade.
const ROOT = resolve(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

const FILES = [...sources('src'), ...sources('tools')];
const text = new Map(FILES.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));
const specifiers = new Map(FILES.map((f) => [f, moduleSpecifiers(f, text.get(f)!)]));

// Every module a file imports or re-exports (static, type-only and dynamic), as repo-relative .ts paths.
function importsOf(file: string): string[] {
  const specs = specifiers.get(file)!;
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)).replace(/\.js$/, '.ts'));
}

// The packages a file imports by any spelling (`node:` or not, subpaths, require, import()).
const packagesOf = (file: string) =>
  specifiers
    .get(file)!
    .filter((s) => !s.startsWith('.'))
    .map(packageOf);

describe('code layout', () => {
  // Playwright's DEPS.list, per folder: a folder's modules import only the folders its DEPS.list names (besides its
  // own), and every line there is still used, so the list tells the truth about the layers (this replaced a line cap).
  it('keeps each folder to the imports its DEPS.list names, and every DEPS.list line in use', () => {
    const folders = [...new Set(FILES.map((f) => dirname(f)))];
    const problems: string[] = [];
    for (const folder of folders) {
      const listPath = join(ROOT, folder, 'DEPS.list');
      if (!existsSync(listPath)) {
        problems.push(`${folder}: no DEPS.list`);
        continue;
      }
      const allowed = new Set(
        readFileSync(listPath, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#')),
      );
      const used = new Set<string>();
      for (const file of FILES.filter((f) => dirname(f) === folder)) {
        for (const target of importsOf(file)) {
          const rel = relative(folder, dirname(target));
          if (rel === '') continue;
          used.add(rel);
          if (!allowed.has(rel)) problems.push(`${file} -> ${target}: ${rel} is not in ${folder}/DEPS.list`);
        }
      }
      for (const line of allowed)
        if (!used.has(line)) problems.push(`${folder}/DEPS.list: ${line} is listed but not imported`);
    }
    expect(problems).toEqual([]);
  });

  it('has no import cycle, type-only imports included', () => {
    const graph = new Map(FILES.map((f) => [f, importsOf(f).filter((d) => text.has(d))]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const d of graph.get(f)!) visit(d, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of FILES) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('lets tools import only the engine facade and each other', () => {
    const outside = FILES.filter((f) => f.startsWith('tools/')).flatMap((f) =>
      importsOf(f)
        .filter((d) => !d.startsWith('tools/') && d !== 'src/engine.ts')
        .map((d) => `${f} -> ${d}`),
    );
    expect(outside).toEqual([]);
  });

  it('calls a tool handler only through the guard, so every call that starts claude is admitted first', () => {
    const handlerCall = /\b\w*[tT]ool\w*(\([^)]*\))?\s*\.handle\s*\(/;
    const direct = FILES.filter((f) => f !== 'tools/call-tool.ts' && handlerCall.test(text.get(f)!));
    expect(direct).toEqual([]);
  });

  it('spawns claude in exactly one module and parses its stream in exactly one', () => {
    const startsProcesses = FILES.filter((f) => packagesOf(f).some((p) => p === 'execa' || p === 'child_process'));
    // mcp-probe starts MCP servers for `doctor`, contain probes util-linux, isolation/git runs git: none runs claude.
    expect(
      startsProcesses.filter(
        (f) => !['src/cli/mcp-probe.ts', 'src/claude/contain.ts', 'src/isolation/git.ts'].includes(f),
      ),
    ).toEqual(['src/claude/spawn.ts']);
    const schemaUsers = FILES.filter((f) => /EVENT_SCHEMAS/.test(text.get(f)!) && f !== 'src/claude/events.ts');
    expect(schemaUsers).toEqual(['src/claude/parse-line.ts']);
    // Live lines are parsed by the run, logged lines (read back from disk) by the view; both through parse-line.
    const parsers = FILES.filter((f) => /parseEventLine\(/.test(text.get(f)!) && f !== 'src/claude/parse-line.ts');
    expect(parsers.sort()).toEqual(['src/claude/run.ts', 'src/tasks/view.ts']);
  });

  it('imports every module by a literal name, so the rules above see where each import leads', () => {
    const computed = FILES.filter((f) => specifiers.get(f)!.includes(DYNAMIC_SPECIFIER));
    expect(computed).toEqual([]);
  });

  it('keeps no claude process count in module state', () => {
    const moduleSets = FILES.filter((f) => /^const \w+ = new (Set|Map)</m.test(text.get(f)!));
    expect(moduleSets).toEqual([]);
  });
});
