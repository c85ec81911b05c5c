// Builds the board's browser files into dist/web (run by `npm run build` after tsc): the web board (board.js, its
// CSS and pages) and the MCP App (one self-contained HTML file, script and style inline). Plain TypeScript bundled
// with esbuild: no framework, nothing loaded from another host.
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { zodEnglishOnly } from '../scripts/zod-english.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, 'web', 'board');
const out = join(root, 'dist', 'web');
mkdirSync(out, { recursive: true });

// The App's SDK, slimmed (345 KB instead of 680 KB before gzip): zod (through the MCP SDK) keeps English only
// (zodEnglishOnly), and the MCP client modules are marked free of side effects, as they are (see below).
const slimSdk = {
  name: 'slim-sdk',
  setup(b) {
    // ext-apps takes only Protocol from the MCP client package, whose modules declare no sideEffects: let the
    // bundler drop what is not used (the OAuth client, transports, validators).
    b.onResolve({ filter: /^@modelcontextprotocol\/(client|core)(\/|$)|^\.\/.*\.mjs$/ }, async (args) => {
      if (
        args.pluginData === 'inner' ||
        !/@modelcontextprotocol[\\/](client|core|ext-apps)/.test(args.importer + args.path)
      )
        return undefined;
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'inner',
      });
      return /@modelcontextprotocol[\\/](client|core)[\\/]/.test(r.path) ? { ...r, sideEffects: false } : r;
    });
  },
};
const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
};
const [board, app] = await Promise.all([
  build({ ...common, entryPoints: [join(src, 'http-main.ts')] }),
  build({ ...common, entryPoints: [join(src, 'app-main.ts')], plugins: [zodEnglishOnly(root), slimSdk] }),
]);
writeFileSync(join(out, 'board.js'), board.outputFiles[0].text);
for (const f of ['board.css', 'board.html', 'login.html']) copyFileSync(join(src, f), join(out, f));

// Inline text must not close its own element early.
const css = readFileSync(join(src, 'board.css'), 'utf8').replace(/<\/style/gi, '<\\/style');
const js = app.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>claude-tiers board</title><style>${css}</style></head>
<body><div id="app" data-mode="app">Loading…</div><script>${js}</script></body></html>
`;
writeFileSync(join(out, 'board-app.html'), html);
