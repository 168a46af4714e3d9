// Node's own CommonJS loading of one file, but compiled with V8's cached bytecode kept beside
// it (Node 20 has no compile cache of its own; module.enableCompileCache came with Node 22).
// Used by bin/plumb.js for dist/bundle/plumb.cjs; the cache is made by `npm run build`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import vm from 'node:vm';

/**
 * Compiles `file` as a CommonJS module body with `${file}.cache` when there is one. A cache V8
 * rejects (another node, other V8 flags, another file) costs nothing but the usual compile.
 */
export function compileCached(file, { useCache = true } = {}) {
  const cacheFile = `${file}.cache`;
  const cachedData = useCache && existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  return { script, cacheFile, usedCache: cachedData !== undefined && !script.cachedDataRejected };
}

/**
 * Runs `file` and returns its exports. With `writeCache`, the cache is written when the process
 * exits, so it holds every function the run compiled, not only the top level.
 */
export function loadCached(file, { writeCache = false } = {}) {
  const { script, cacheFile } = compileCached(file, { useCache: !writeCache });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  if (writeCache) process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  return module.exports;
}
