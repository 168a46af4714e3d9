#!/usr/bin/env node
// Runs the compiled CLI (the bundle, else tsc's output); falls back to the
// TypeScript sources through tsx in a development checkout where `npm run build`
// has not run yet.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = [join(root, 'dist', 'bundle', 'main.js'), join(root, 'dist', 'cli', 'main.js')].find((f) => existsSync(f)) ?? '';
let entry;
if (compiled && process.env.PLUMB_FROM_SOURCE !== '1') {
  entry = pathToFileURL(compiled).href;
} else {
  try {
    await import('tsx/esm');
  } catch {
    console.error('plumb: dist/ is missing and tsx is not installed; run `npm run build` first');
    process.exit(1);
  }
  entry = pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href;
}
const { main } = await import(entry);
await main();
