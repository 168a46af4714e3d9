/**
 * npm run build, second step: dist/cli (tsc's output) bundled into dist/bundle, what
 * bin/plumb.js runs. Start-up is mostly module loading: ~180 files (zod alone is 95)
 * cost ~100 ms of resolving, reading and linking; a few chunks cost a fraction of it.
 * Each command stays its own chunk (main.ts imports them with import()), so
 * `plumb --version` still loads none. ssh2 stays outside: it has native parts, and
 * loads only with the first ssh host.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
  sourcemap: true,
  logLevel: 'warning',
});
