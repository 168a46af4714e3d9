/**
 * `include_vars` read at load, as Ansible's include_vars action reads at run
 * time: one file (`include_vars: f.yml` or `file:`), found like any relative
 * file of a task (under `vars/` first in the role's, the task file's and the
 * playbook's directories), or a directory (`dir:`) walked in sorted order with
 * `depth`, `files_matching`, `ignore_files`, `extensions` and
 * `ignore_unknown_extensions`; `name:` nests the result under one variable.
 * Names are literal: plumb reads every file before it contacts a host.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';
import type { Node } from 'yaml';
import { isTemplate } from '../template/expr.js';
import { describeValue } from '../source/issues.js';
import { isVariableName } from '../source/names.js';
import type { SourcePos } from '../source/pos.js';
import { didYouMean } from '../source/suggest.js';
import { locate, posOf, readYaml, type PathPart } from '../source/yaml.js';
import { KeyValueError, parseKeyValues } from './key-value.js';
import { pathKind as kind } from '../inventory/vars-files.js';
import type { Checker } from './playbook.js';

const DIR_ARGS = ['dir', 'depth', 'files_matching', 'ignore_files', 'extensions', 'ignore_unknown_extensions'];
const FILE_ARGS = ['file'];
const ALL_ARGS = [...FILE_ARGS, ...DIR_ARGS, 'name'];
const DEFAULT_EXTENSIONS = ['yaml', 'yml', 'json'];

/** The key of an include_vars task (`include_vars` or its FQCN), if `entry` is one. */
export function includeVarsKey(entry: Record<string, unknown>): string | undefined {
  return Object.keys(entry).find((k) => /^(ansible\.(builtin|legacy)\.)?include_vars$/.test(k));
}

/** Where a relative name is looked for: the task's role, the file the task is written in, the playbook. */
export interface IncludeVarsWhere {
  roleDir?: string;
  fileDir: string;
  playbookDir: string;
}

export interface LoadedVars {
  vars: Record<string, unknown>;
  positions: Map<string, SourcePos>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Read what the include_vars at `at` (the value of its key) loads; undefined after reporting every problem. */
export function loadIncludeVars(checker: Checker, written: unknown, at: PathPart[], where: IncludeVarsWhere): LoadedVars | undefined {
  const args = argumentsOf(checker, written, at);
  if (!args) return undefined;
  const argAt = (k: string) => (typeof written === 'string' ? at : [...at, k]);
  let ok = true;
  for (const key of Object.keys(args)) {
    if (ALL_ARGS.includes(key)) continue;
    ok = false;
    const why =
      key === 'hash_behaviour'
        ? 'is not supported: plumb replaces variables, as Ansible does by default'
        : `is unknown${didYouMean(key, ALL_ARGS) || `; expected one of: ${ALL_ARGS.join(', ')}`}`;
    checker.error(argAt(key), `include_vars: "${key}" ${why}`, typeof written === 'string' ? 'value' : 'key');
  }
  const has = (list: string[]) => Object.keys(args).some((k) => list.includes(k));
  if (has(DIR_ARGS) && has(FILE_ARGS)) {
    checker.error(at, 'include_vars takes either "file" or "dir" (with depth, files_matching, ignore_files, extensions), not both');
    return undefined;
  }
  for (const key of ['file', 'dir', 'name', 'files_matching']) {
    const v = args[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') {
      ok = false;
      checker.error(argAt(key), `include_vars: "${key}" must be a non-empty string, found ${describeValue(v)}`);
    } else if (isTemplate(v)) {
      ok = false;
      checker.error(argAt(key), `include_vars with a templated ${key} is not supported yet: plumb reads every vars file before it contacts a host; write the ${key} literally`);
    }
  }
  if (typeof args.name === 'string' && !isTemplate(args.name) && !isVariableName(args.name)) {
    ok = false;
    checker.error(argAt('name'), `include_vars: invalid variable name "${args.name}": use letters, digits and _, not starting with a digit`);
  }
  if (args.file === undefined && args.dir === undefined) {
    checker.error(at, 'include_vars needs a file (include_vars: file.yml, or file:) or a directory (dir:)');
    return undefined;
  }
  const dir = args.dir === undefined ? undefined : dirOptions(checker, args, argAt);
  if (!ok || (args.dir !== undefined && !dir)) return undefined;
  const loaded = dir ? readDir(checker, args.dir as string, dir, argAt('dir'), where) : readNamed(checker, args.file as string, argAt('file'), where);
  if (!loaded || typeof args.name !== 'string') return loaded;
  const namePos = posOf(checker.src, locate(checker.root, argAt('name')).node);
  return { vars: { [args.name]: loaded.vars }, positions: new Map([[args.name, namePos]]) };
}

/** A mapping of arguments; a string is a file name, or key=value arguments when every word is one. */
function argumentsOf(checker: Checker, written: unknown, at: PathPart[]): Record<string, unknown> | undefined {
  if (isRecord(written)) return written;
  if (typeof written !== 'string' || written.trim() === '') {
    checker.error(at, `include_vars needs a file name or a mapping (file:, dir:, name:), found ${describeValue(written)}`);
    return undefined;
  }
  const text = written.trim();
  if (/^\w+=/.test(text)) {
    try {
      const kv = parseKeyValues(text);
      if (kv.free === undefined) return kv.options;
    } catch (err) {
      if (!(err instanceof KeyValueError)) throw err;
      checker.error(at, `include_vars: ${err.message}`);
      return undefined;
    }
  }
  return { file: text };
}

interface DirOptions {
  depth: number;
  matching?: RegExp;
  ignore: RegExp[];
  extensions: string[];
  ignoreUnknown: boolean;
}

function dirOptions(checker: Checker, args: Record<string, unknown>, argAt: (k: string) => PathPart[]): DirOptions | undefined {
  let ok = true;
  const fail = (key: string, message: string) => {
    ok = false;
    checker.error(argAt(key), `include_vars: ${message}`);
  };
  const depth = typeof args.depth === 'string' && /^\d+$/.test(args.depth) ? Number(args.depth) : (args.depth ?? 0);
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 0) fail('depth', `"depth" must be a whole number (0: no limit), found ${describeValue(args.depth)}`);
  const regex = (key: string, source: string, suffix = ''): RegExp | undefined => {
    try {
      return new RegExp(source + suffix);
    } catch {
      fail(key, `"${key}": invalid regular expression ${JSON.stringify(source)}`);
      return undefined;
    }
  };
  const strings = (key: string): string[] | undefined => {
    const v = args[key];
    if (v === undefined) return undefined;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    fail(key, `"${key}" must be a list of strings, found ${describeValue(v)}`);
    return undefined;
  };
  const matching = typeof args.files_matching === 'string' ? regex('files_matching', args.files_matching) : undefined;
  // Ansible matches each ignore_files entry as a regular expression anchored at the end of the name.
  const ignore = (strings('ignore_files') ?? []).map((p) => regex('ignore_files', p, '$')).filter((r): r is RegExp => r !== undefined);
  const extensions = strings('extensions') ?? DEFAULT_EXTENSIONS;
  const ignoreUnknown = args.ignore_unknown_extensions ?? false;
  if (typeof ignoreUnknown !== 'boolean') fail('ignore_unknown_extensions', `"ignore_unknown_extensions" must be true or false, found ${describeValue(ignoreUnknown)}`);
  return ok ? { depth: depth as number, matching, ignore, extensions, ignoreUnknown: ignoreUnknown as boolean } : undefined;
}

/** One file, looked for as Ansible's tasks look for a relative file: `vars/NAME`, then `NAME`, in each search directory. */
function readNamed(checker: Checker, name: string, at: PathPart[], where: IncludeVarsWhere): LoadedVars | undefined {
  const dirs = [...new Set([...(where.roleDir ? [where.roleDir] : []), where.fileDir, where.playbookDir])];
  const candidates = isAbsolute(name) ? [name] : dirs.flatMap((d) => [join(d, 'vars', name), join(d, name)]);
  const file = candidates.find((c) => kind(c) === 'file');
  if (!file) {
    checker.error(at, `include_vars: cannot find "${name}" (looked in ${candidates.join(', ')})`);
    return undefined;
  }
  const out: LoadedVars = { vars: {}, positions: new Map() };
  return readInto(checker, file, at, out) ? out : undefined;
}

/**
 * A directory, as Ansible walks it: in a role, relative to the role's `vars/`
 * (or the role itself when the name starts with `vars/`); elsewhere relative to
 * the file the task is written in. Directories in sorted order, the first
 * `depth` of them (0: all), files sorted in each; the role's vars/main.yml skipped.
 */
function readDir(checker: Checker, name: string, opts: DirOptions, at: PathPart[], where: IncludeVarsWhere): LoadedVars | undefined {
  let root: string;
  if (where.roleDir && !isAbsolute(name)) {
    const direct = join(where.roleDir, name);
    root = name.split('/')[0] === 'vars' && kind(direct) !== undefined ? direct : join(where.roleDir, 'vars', name);
  } else root = isAbsolute(name) ? name : join(where.fileDir, name);
  const k = kind(root);
  if (k !== 'dir') {
    checker.error(at, `include_vars: ${root} ${k === 'file' ? 'is not a directory' : 'directory does not exist'}`);
    return undefined;
  }
  const dirs = walk(root).sort();
  const roleMain = where.roleDir ? resolve(where.roleDir, 'vars', 'main.yml') : undefined;
  const out: LoadedVars = { vars: {}, positions: new Map() };
  let ok = true;
  for (const dir of opts.depth === 0 ? dirs : dirs.slice(0, opts.depth)) {
    const files = readdirSync(dir)
      .filter((f) => kind(join(dir, f)) === 'file')
      .sort();
    for (const f of files) {
      const path = join(dir, f);
      if (resolve(path) === roleMain) continue;
      if (opts.matching && !opts.matching.test(f)) continue;
      if (opts.ignore.some((r) => r.test(f))) continue;
      const ext = extname(f).slice(1);
      if (!extname(f) || !opts.extensions.includes(ext)) {
        if (opts.ignoreUnknown) continue;
        checker.error(at, `include_vars: ${path} does not have a valid extension: ${opts.extensions.join(', ')} (ignore_unknown_extensions: true skips such files)`);
        return undefined;
      }
      ok = readInto(checker, path, at, out) && ok;
    }
  }
  return ok ? out : undefined;
}

/** Every directory under `root` (itself included); like Python's os.walk, a symlink to a directory is not entered. */
function walk(root: string): string[] {
  const out = [root];
  for (const entry of readdirSync(root)) {
    const p = join(root, entry);
    if (lstatSync(p).isDirectory()) out.push(...walk(p));
  }
  return out;
}

/** Read one vars file into `out` (later files override earlier ones); positions are inside the file. */
function readInto(checker: Checker, file: string, at: PathPart[], out: LoadedVars): boolean {
  const diags = checker.diags;
  const before = diags.items.length;
  const src = readYaml(file, diags, 'vars file');
  if (!src) {
    const last = diags.items.at(-1);
    if (diags.items.length === before + 1 && last?.message === 'vars file is empty') {
      diags.items.pop();
      return true;
    }
    if (diags.items.length > before && last?.message.startsWith('cannot read')) {
      diags.items.pop();
      checker.error(at, last.message.replace('cannot read vars file', `cannot read vars file ${file}`));
    }
    return false;
  }
  const c = checker.forFile(src);
  if (src.value === null) return true;
  if (!isRecord(src.value)) {
    diags.error(posOf(src, c.root), `expected a mapping of variables, found ${describeValue(src.value)}`);
    return false;
  }
  const positions = new Map<string, SourcePos>();
  if (!c.variables(src.value, [], positions, src, c.root as Node)) return false;
  Object.assign(out.vars, src.value);
  for (const [k, p] of positions) out.positions.set(k, p);
  return true;
}
