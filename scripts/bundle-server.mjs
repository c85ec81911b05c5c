// Bundles the server's command (dist/src/index.js, run by `npm run build` after tsc) in place: loading ~170 small
// modules (zod alone is 97, its locales 50) was most of the stdio server's start-up, a benchmark target. Each command
// and the engine stay separate chunks, loaded by `import()` when used; all chunks sit in dist/src next to index.js.
// Packages other than zod and the MCP SDK stay external (pino, execa, bullmq, ioredis, prom-client: loaded as today).
// A module of ours that reads import.meta.url gets the URL of its own tsc output (dist/src/...), so files it finds
// relative to itself are found as before. The chunks carry linked source maps composed with tsc's, so a stack trace
// (node --enable-source-maps) names src/*.ts, not a chunk.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { zodEnglishOnly } from './zod-english.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
const outdir = join(dist, 'src');
const BUNDLED = /^(zod|@modelcontextprotocol\/(server|core|ext-apps))(\/|$)/;
const CHUNK = /^chunk-[A-Z0-9]+\.js$/;

// Run twice without tsc in between, index.js is the bundle already: it stays as it is, with its chunks.
if (/from "\.\/chunk-[A-Z0-9]+\.js"/.test(readFileSync(join(outdir, 'index.js'), 'utf8'))) {
  process.stderr.write('dist/src/index.js is bundled already (run tsc first to bundle again)\n');
  process.exit(0);
}
for (const name of readdirSync(outdir)) if (CHUNK.test(name)) rmSync(join(outdir, name));

// What a module of ours must not use, since the bundle cannot keep its meaning: import.meta.dirname/filename (inside
// a chunk they name dist/src, not the module's folder), import.meta.resolve (resolves from the chunk, and the bundled
// packages are no longer in node_modules' reach of it), and zod's locales (the bundle keeps English only).
const REFUSED = [
  [
    /import\.meta\.(dirname|filename)/,
    'use import.meta.url, not import.meta.dirname/filename (the bundle keeps only the url)',
  ],
  [
    /import\.meta\.resolve\b/,
    'import.meta.resolve would resolve from a chunk in dist/src; use new URL(.., import.meta.url)',
  ],
  [/\bz\.locales\b|\bz\.config\(\s*z\.locales/, 'zod locales are not bundled (the server speaks English only)'],
];

function refuseUnbundlable(path, text) {
  for (const [pattern, why] of REFUSED) if (pattern.test(text)) throw new Error(`${path}: ${why}`);
}

// The MCP SDK's Node shims, as the SDK's own (node:process, the default JSON Schema validator) except that ajv
// (~300 KB, evaluated at import) is required at the validator's first use: only an elicitation's answer is checked with
// it, so the stdio server no longer loads ajv before it answers tools/list. The validator itself is the SDK's,
// unchanged.
const SDK_SHIMS = `import process from 'node:process';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
export class DefaultJsonSchemaValidator {
  #args;
  #inner;
  constructor(...args) {
    this.#args = args;
  }
  getValidator(schema) {
    this.#inner ??= new (require('@modelcontextprotocol/server/validators/ajv').AjvJsonSchemaValidator)(...this.#args);
    return this.#inner.getValidator(schema);
  }
}
export { process };
`;

const layout = {
  name: 'server-layout',
  setup(b) {
    b.onResolve({ filter: /^@modelcontextprotocol\/server\/_shims$/ }, () => ({
      path: 'sdk-shims',
      namespace: 'ours',
    }));
    b.onLoad({ filter: /^sdk-shims$/, namespace: 'ours' }, () => ({ contents: SDK_SHIMS, loader: 'js' }));
    // Bare imports of other packages stay imports (resolved from node_modules at run time, as before).
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('node:') || !BUNDLED.test(args.path) ? { path: args.path, external: true } : undefined,
    );
    // Our modules: import.meta.url is the module's own file under dist/src, computed from the chunk's location.
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(dist + sep)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      // Inside a chunk these would name dist/src, not the module's folder: use import.meta.url (rewritten below).
      refuseUnbundlable(args.path, text);
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'js' };
      const own = relative(outdir, args.path).split(sep).join('/');
      const url = `new URL(${JSON.stringify(`./${own}`)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(outdir, 'index.js')],
  outdir,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  legalComments: 'none',
  // Linked maps: esbuild reads each input's //# sourceMappingURL (tsc's .js.map) and maps through it to src/*.ts.
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [zodEnglishOnly(root), layout],
});
