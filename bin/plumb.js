#!/usr/bin/env node
// Runs the bundled CLI (dist/bundle/plumb.cjs, with the code cache `npm run build` made for it),
// else tsc's output, else the TypeScript sources through tsx in a development checkout where
// `npm run build` has not run yet. PLUMB_FROM_SOURCE=1 always runs the sources.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'bundle', 'plumb.cjs');
const compiled = join(root, 'dist', 'cli', 'main.js');
const fromSource = process.env.PLUMB_FROM_SOURCE === '1';

let cli;
if (!fromSource && existsSync(bundle)) {
  // The bundled CLI answers --version too; this answer needs none of it loaded.
  if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-V')) {
    console.log(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    process.exit(0);
  }
  // Imported here, not above: --version needs none of it.
  const { loadCached } = await import('./code-cache.js');
  cli = loadCached(bundle);
} else if (!fromSource && existsSync(compiled)) {
  cli = await import(pathToFileURL(compiled).href);
} else {
  try {
    await import('tsx/esm');
  } catch {
    console.error('plumb: dist/ is missing and tsx is not installed; run `npm run build` first');
    process.exit(1);
  }
  cli = await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
await cli.main();
