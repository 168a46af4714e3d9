/**
 * npm run build, second step: dist/cli (tsc's output) bundled into dist/bundle, what
 * bin/plumb.js runs. Start-up is mostly module loading: ~180 files (zod alone is 95)
 * cost ~100 ms of resolving, reading and linking; a few chunks cost a fraction of it.
 * Each command stays its own chunk (main.ts imports them with import()), so
 * `plumb --version` still loads none. ssh2 stays outside: it has native parts, and
 * loads only with the first ssh host.
 */
import { build, type Plugin } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * zod re-exports all its ~60 message locales (a third of the bundle's biggest chunk, parsed at
 * every start); plumb speaks English only, and zod sets English itself (classic/schemas.js).
 */
const englishOnlyZod: Plugin = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${sep}zod${sep}v4${sep}`) ? { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: "export { default as en } from './en.js';", resolveDir: dirname(args.path) }));
  },
};

const outdir = fileURLToPath(new URL('../dist/bundle', import.meta.url));
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2'],
  // yaml is CommonJS and requires Node built-ins; an ES module has no `require` of its own.
  banner: { js: "import { createRequire as plumbCreateRequire } from 'node:module'; const require = plumbCreateRequire(import.meta.url);" },
  plugins: [englishOnlyZod],
  sourcemap: true,
  logLevel: 'warning',
});
