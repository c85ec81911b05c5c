// The esbuild plugin both bundles use (the server's, scripts/bundle-server.mjs, and the board's, web/build.mjs): zod
// re-exports every locale's messages (50 modules) through locales/index.js, and ours speak English only (zod sets it
// itself), so that index is swapped for one that has just `en`.
import { join } from 'node:path';

// The plugin, for the package root whose node_modules holds zod.
export function zodEnglishOnly(root) {
  return {
    name: 'zod-english-only',
    setup(b) {
      b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
        /[\\/]zod[\\/]/.test(args.importer)
          ? { path: join(root, 'node_modules', 'zod', 'v4', 'locales', 'en.js'), namespace: 'zod-en' }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
        contents: `export { default as en } from ${JSON.stringify(args.path)};`,
        resolveDir: root,
      }));
    },
  };
}
