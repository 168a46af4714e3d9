/**
 * Ansible's spellings of a task, normalised to plumb's: fully qualified module names
 * (`ansible.builtin.copy`), `key=value` argument strings, the `args:` keyword, the argument aliases
 * Ansible documents (declared by each module), YAML 1.1 literals (`yes`/`no`, `mode: 0644`) where
 * the argument's type says what they mean, and the names of Ansible modules plumb does not have.
 * The checker (playbook.ts) validates what comes out with the module's own strict schema.
 */
import { isScalar, type Node } from 'yaml';
import type { z } from 'zod';
import { moduleNames, modules, type ModuleName } from '../modules/args.js';
import { ANSIBLE_COMMAND_OPTIONS } from '../modules/command.js';
import { isModeSchema } from '../modules/common.js';
import type { PathPart } from '../source/yaml.js';
import { ANSIBLE_BUILTIN_MODULES, ANSIBLE_REDIRECTS } from './ansible-modules.js';
import { KeyValueError, parseKeyValues } from './key-value.js';

/** What a task's module key names. */
export type ModuleRef =
  | { kind: 'plumb'; module: ModuleName }
  /** An Ansible module plumb does not have: a warning at load, a failure where the task runs. */
  | { kind: 'ansible'; name: string; where: string }
  | { kind: 'unknown' };

const BUILTIN = new Set(ANSIBLE_BUILTIN_MODULES);
const REDIRECT_TARGETS = new Set(Object.values(ANSIBLE_REDIRECTS));
/** Collections whose module lists plumb carries (incomplete for the last two: they grow). */
const FQCN = /^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$/;

/** The plumb module an Ansible name means, an Ansible module plumb lacks, or neither. */
export function resolveModule(key: string): ModuleRef {
  if ((moduleNames as string[]).includes(key)) return { kind: 'plumb', module: key as ModuleName };
  const fq = FQCN.exec(key);
  if (!fq) {
    if (BUILTIN.has(key)) return { kind: 'ansible', name: key, where: 'ansible.builtin' };
    const target = ANSIBLE_REDIRECTS[key];
    if (target) return { kind: 'ansible', name: key, where: target.split('.').slice(0, 2).join('.') };
    return { kind: 'unknown' };
  }
  const [, namespace, collection, name] = fq;
  const where = `${namespace}.${collection}`;
  if (where === 'ansible.builtin' || where === 'ansible.legacy') {
    // postconf is plumb's own: Ansible has no module of that name, so no FQCN means it.
    if (!BUILTIN.has(name)) return { kind: 'unknown' };
    if ((moduleNames as string[]).includes(name)) return { kind: 'plumb', module: name as ModuleName };
    return { kind: 'ansible', name: key, where: 'ansible.builtin' };
  }
  if (REDIRECT_TARGETS.has(key) && (moduleNames as string[]).includes(name)) return { kind: 'plumb', module: name as ModuleName };
  // Any other collection's module: plumb cannot know the collection's list, so it is taken as one.
  return { kind: 'ansible', name: key, where };
}

/** Names a typo of a module key is compared with. */
export function moduleSpellings(): string[] {
  return [...moduleNames, ...moduleNames.filter((m) => BUILTIN.has(m)).map((m) => `ansible.builtin.${m}`)];
}

/** The short name of `ansible.builtin.X`/`ansible.legacy.X`, else the key. */
export function shortName(key: string): string {
  return key.replace(/^ansible\.(builtin|legacy)\./, '');
}

/** PyYAML's YAML 1.1 booleans that YAML 1.2 reads as strings (true/false are booleans in both). */
const YAML11_BOOLEAN = /^(yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/;

/** The scalar a path leads to, as written. */
export interface Written {
  text: string;
  /** An unquoted (plain) scalar: only those are YAML 1.1 literals. */
  plain: boolean;
}

export function writtenScalar(text: string, node: Node | null | undefined): Written | undefined {
  if (!isScalar(node) || !node.range) return undefined;
  return { text: text.slice(node.range[0], node.range[1]), plain: node.type === 'PLAIN' };
}

/**
 * A keyword that takes a boolean (become, ignore_errors, when, changed_when) written as a plain
 * YAML 1.1 boolean (`become: yes`) is that boolean, as Ansible's YAML reads it. A quoted "yes" stays
 * a string (and an error for a boolean keyword): plumb is stricter than Ansible there.
 */
export function yaml11Keywords(raw: Record<string, unknown>, schemas: Record<string, z.ZodType>, writtenAt: (key: string) => Written | undefined): Record<string, unknown> {
  const out = { ...raw };
  for (const [key, value] of Object.entries(raw)) {
    const schema = schemas[key];
    if (!schema || typeof value !== 'string' || !YAML11_BOOLEAN.test(value) || !schema.safeParse(true).success) continue;
    if (writtenAt(key)?.plain) out[key] = /^(yes|on)$/i.test(value);
  }
  return out;
}

type Kind = 'boolean' | 'number' | 'string' | 'array' | 'mode' | 'other';

/** The kinds of value each top-level argument of a module's schema takes. */
function argumentKinds(schema: z.ZodType): Map<string, Set<Kind>> {
  const out = new Map<string, Set<Kind>>();
  const shape = shapeOf(schema);
  if (!shape) return out;
  for (const [key, field] of Object.entries(shape)) out.set(key, kindsOf(field));
  return out;
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType; options?: z.ZodType[]; shape?: Record<string, z.ZodType> };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const object = objectSchemaOf(schema);
  return object ? defOf(object).shape : undefined;
}

/** The object schema inside a module's argument schema (past freeForm's preprocess and wrappers). */
export function objectSchemaOf(schema: z.ZodType): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (let i = 0; i < 10 && s; i++) {
    const def = defOf(s);
    if (def.type === 'object') return s;
    // freeForm's preprocess is a pipe from a transform into the object.
    s = def.type === 'pipe' ? (defOf(def.out!).type === 'object' ? def.out : def.in) : def.innerType;
  }
  return undefined;
}

function kindsOf(field: z.ZodType): Set<Kind> {
  const kinds = new Set<Kind>();
  const walk = (s: z.ZodType, depth: number): void => {
    if (depth > 10) return;
    if (isModeSchema(s)) return void kinds.add('mode');
    const def = defOf(s);
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'readonly') walk(def.innerType!, depth + 1);
    else if (def.type === 'union') def.options!.forEach((o) => walk(o, depth + 1));
    else if (def.type === 'pipe') walk(def.in!, depth + 1);
    else if (def.type === 'boolean' || def.type === 'number' || def.type === 'string' || def.type === 'array') kinds.add(def.type);
    else if (def.type === 'enum') kinds.add('string');
    else kinds.add('other');
  };
  walk(field, 0);
  return kinds;
}

const TRUE = ['y', 'yes', 'on', '1', 'true', 't'];
const FALSE = ['n', 'no', 'off', '0', 'false', 'f'];

/** A value as Ansible's argument spec converts it to the argument's type; unchanged when it cannot. */
function convert(value: unknown, kinds: Set<Kind>, written: Written | undefined): unknown {
  if (typeof value === 'string' && !value.includes('{{') && !value.includes('{%')) {
    const lower = value.toLowerCase();
    if (kinds.has('boolean') && !kinds.has('string')) {
      if (TRUE.includes(lower)) return true;
      if (FALSE.includes(lower)) return false;
    }
    if (kinds.has('number') && !kinds.has('string') && /^-?\d+$/.test(value)) return Number(value);
    // Ansible's list type splits a string on commas (`name=postfix,mailutils`).
    if (kinds.has('array') && value.includes(',')) return value.split(',');
  }
  if (typeof value === 'number' && kinds.has('mode') && written?.plain) {
    // YAML 1.1 (Ansible's) reads 0644 and 0o644 as octal numbers; YAML 1.2 read 0644 as decimal 644.
    const octal = /^0o?([0-7]+)$/.exec(written.text);
    if (octal) return `0${octal[1].replace(/^0+(?=\d{3})/, '')}`;
  }
  if (typeof value === 'number' && kinds.has('string') && !kinds.has('number') && !kinds.has('mode')) return String(value);
  return value;
}

/** A problem with how the task spells its arguments, at a YAML path relative to the task. */
export interface SpellingIssue {
  path: PathPart[];
  message: string;
  at: 'key' | 'value';
}

export interface SpelledArgs {
  /** The arguments under plumb's names, ready for the module's schema. */
  args: unknown;
  issues: SpellingIssue[];
  /** Where an argument (by plumb's name) was written, relative to the task. */
  argPath(path: PathPart[]): PathPart[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * One task's arguments under plumb's names: `written` is the module key's value, `extra` the
 * task's `args:` keyword (lower priority, as in Ansible); `writtenAt` reads a scalar as written
 * (a YAML path relative to the task).
 */
export function spellArguments(name: ModuleName, moduleKey: string, written: unknown, extra: unknown, writtenAt: (path: PathPart[]) => Written | undefined): SpelledArgs {
  const module = modules[name];
  const issues: SpellingIssue[] = [];
  const origin = new Map<string, PathPart[]>();
  const argPath = (path: PathPart[]): PathPart[] => {
    const from = path.length ? origin.get(String(path[0])) : undefined;
    return from ? [...from, ...path.slice(1)] : [moduleKey, ...path];
  };
  let own: unknown = written;
  if (typeof written === 'string') {
    try {
      const kv = parseKeyValues(written, module.freeForm !== undefined ? ANSIBLE_COMMAND_OPTIONS : undefined);
      own = { ...kv.options };
      if (kv.free !== undefined) {
        if (module.freeForm) (own as Record<string, unknown>)[module.freeForm] = kv.free;
        else issues.push({ path: [moduleKey], at: 'value', message: `"${firstWord(kv.free)}" is not key=value: ${name} takes key=value pairs or a mapping` });
      }
      // A path into a key=value string ends at the string (locate stops there), yet names the argument.
      for (const k of Object.keys(own as object)) origin.set(k, [moduleKey, k]);
    } catch (err) {
      if (!(err instanceof KeyValueError)) throw err;
      issues.push({ path: [moduleKey], at: 'value', message: err.message });
      return { args: written, issues, argPath };
    }
  } else if (isRecord(written)) {
    for (const k of Object.keys(written)) origin.set(k, [moduleKey, k]);
  }
  if (extra !== undefined) {
    if (!isRecord(extra)) {
      issues.push({ path: ['args'], at: 'value', message: 'args: must be a mapping of the module arguments' });
    } else if (own === null || own === undefined || isRecord(own)) {
      for (const k of Object.keys(extra)) if (!origin.has(k)) origin.set(k, ['args', k]);
      own = { ...extra, ...(own ?? {}) };
    }
  }
  if (!isRecord(own)) return { args: own, issues, argPath };
  const args = renameAliases(own, module.aliases ?? {}, origin, issues);
  const kinds = argumentKinds(module.schema as z.ZodType);
  for (const [k, v] of Object.entries(args)) {
    const wanted = kinds.get(k);
    if (!wanted) continue;
    const at = origin.get(k);
    args[k] = convert(v, wanted, at ? writtenAt(at) : undefined);
  }
  return { args, issues, argPath };
}

function renameAliases(
  args: Record<string, unknown>,
  aliases: Readonly<Record<string, string>>,
  origin: Map<string, PathPart[]>,
  issues: SpellingIssue[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    const canonical = aliases[k];
    if (canonical === undefined) {
      if (!Object.hasOwn(out, k)) out[k] = v;
      continue;
    }
    if (Object.hasOwn(args, canonical) || Object.hasOwn(out, canonical)) {
      issues.push({ path: origin.get(k) ?? [k], at: 'key', message: `"${k}" is Ansible's alias of "${canonical}", which is also set; keep one` });
      continue;
    }
    out[canonical] = v;
    origin.set(canonical, origin.get(k) ?? [k]);
  }
  return out;
}

function firstWord(text: string): string {
  const word = text.trim().split(/\s+/)[0];
  return word.length > 40 ? `${word.slice(0, 39)}…` : word;
}

/**
 * Handlers by what notifies them: each handler's name, a role's handler also as "ROLE : name"
 * (as Ansible lets a task name it), and each of its `listen` topics, in the handlers' order
 * (Ansible runs every handler that listens on a notified topic).
 */
export function notifyTargets(handlers: Array<{ name: string; listen: string[]; role?: string }>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (word: string, handler: string) => {
    const list = out.get(word) ?? [];
    if (!list.includes(handler)) list.push(handler);
    out.set(word, list);
  };
  for (const h of handlers) {
    add(h.name, h.name);
    if (h.role) add(qualifiedHandlerName(h.role, h.name), h.name);
    for (const topic of h.listen) add(topic, h.name);
  }
  return out;
}

/** How a task may name a role's handler: "ROLE : name", Ansible's listing of it. */
export function qualifiedHandlerName(role: string, name: string): string {
  return `${role} : ${name}`;
}

/** A task's notify list as the handler names it reaches. */
export function notifiedHandlers(notify: string[], targets: Map<string, string[]>): string[] {
  return [...new Set(notify.flatMap((n) => targets.get(n) ?? [n]))];
}

/** A keyword value that is one string or a list of them, as a list. */
export function stringList(v: unknown): string[] {
  return typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
