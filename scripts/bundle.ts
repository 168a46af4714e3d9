/**
 * npm run build, second step: dist/cli (tsc's output) bundled into one CommonJS file,
 * dist/bundle/plumb.cjs, plus V8's code cache for it, which bin/plumb.js loads.
 *
 * Start-up is mostly turning JavaScript into bytecode: ~180 files cost ~100 ms of
 * resolving, reading and linking (one bundle removes that), and the bundle's 2.3 MB then
 * cost ~40 ms of parsing and compiling on every run. Node 20 keeps no compile cache for ES
 * modules (module.enableCompileCache arrived in Node 22), but `vm.Script` takes V8's
 * cached data for a script: hence CommonJS, and a cache made here once by
 * scripts/warm-code-cache.js, which runs a validate and a local plan first so that the cache
 * holds every function those compiled, not only the top level.
 * Commands still load lazily: main.ts imports each with import(), which esbuild turns
 * into an initialiser that runs only when the command does; ssh2 is inside too (its ~20 ms
 * of compiling were the largest part of a plan's start after the cache), loading only with
 * the first ssh host. Its native add-ons stay outside, required from node_modules.
 */
import { build, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
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

/**
 * A compiled add-on (`.node`) cannot be bundled: it stays where npm put it, required by its
 * package path (ssh2's crypto binding, ssh2/lib/protocol/crypto/build/Release/sshcrypto.node).
 */
const addonsFromNodeModules: Plugin = {
  name: 'addons-from-node-modules',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => {
      const file = join(args.resolveDir, args.path);
      const inModules = file.lastIndexOf(`${sep}node_modules${sep}`);
      if (inModules < 0) return undefined;
      return {
        path: relative(file.slice(0, inModules + '/node_modules/'.length), file)
          .split(sep)
          .join('/'),
        external: true,
      };
    });
  },
};

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist', 'bundle');
const outfile = join(outdir, 'plumb.cjs');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'cli', 'bundle-entry.js')],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // ssh2's optional CPU probe: a native add-on that finds its own files.
  external: ['cpu-features'],
  // The one ES-module-only construct in plumb's sources (main.ts finds package.json with it).
  define: { 'import.meta.url': 'plumbBundleUrl' },
  banner: { js: "const plumbBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [englishOnlyZod, addonsFromNodeModules],
  sourcemap: true,
  logLevel: 'warning',
});

// The cache is V8's, for this node and these flags; bin/plumb.js compiles without it when V8 rejects it.
execFileSync(process.execPath, [join(root, 'scripts', 'warm-code-cache.js')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const cache = `${outfile}.cache`;
if (!existsSync(cache)) throw new Error(`bundle: ${cache} was not written`);
console.log(`bundle: ${outfile} (${(statSync(outfile).size / 1e6).toFixed(1)} MB), code cache ${(statSync(cache).size / 1e6).toFixed(1)} MB`);
