/**
 * Playbook loading: YAML with positions → validated Play/Task model. Every
 * problem becomes a positioned diagnostic; validation goes on after an error
 * so one run reports all of them.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { isMap, isSeq, type Node } from 'yaml';
import type { z } from 'zod';
import { argSchemas, moduleNames, modules, type ModuleName } from '../modules/args.js';
import { LITERAL_ONLY } from '../modules/common.js';
import { checkCondition, checkTemplate } from '../template/render.js';
import { TemplateError } from '../template/errors.js';
import { isTemplate } from '../template/expr.js';
import { MIN_SECRET_LENGTH, shortSecretMessage } from '../redactor.js';
import type { DiagnosticList } from '../source/diagnostics.js';
import { describeValue, flattenIssue, valueAt } from '../source/issues.js';
import type { Play, Playbook, Task } from './model.js';
import type { SourcePos } from '../source/pos.js';
import { playKeywordNames, playKeywords, reservedVariables, taskKeywordNames, taskKeywords, type PlayKeyword, type TaskKeyword } from './schema.js';
import { isVariableName } from '../source/names.js';
import { formatPath, keyPos, locate, posOf, readYaml, valuePos, type PathPart, type YamlSource } from '../source/yaml.js';
import { closest, didYouMean } from '../source/suggest.js';
import { PlayExpander, unknownNotifies } from './roles.js';
import { dynamicKeys, setFactArgs, type KeyChecker } from './dynamic-keys.js';
import { readDelegate, readMeta } from './blocks.js';
import {
  moduleSpellings,
  notifiedHandlers,
  notifyTargets,
  qualifiedHandlerName,
  resolveModule,
  shortName,
  spellArguments,
  stringList,
  writtenScalar,
  yaml11Keywords,
  type Written,
} from './ansible-task.js';

/** Where things were written, kept beside the model for later, positioned errors (rendering). */
export interface PlayMeta {
  hostsPos: SourcePos;
  varPositions: Map<string, SourcePos>;
  secretPositions: Map<string, SourcePos>;
}
export interface TaskMeta {
  src: YamlSource;
  /** YAML path of the task (index into the document). */
  path: PathPart[];
  /** What error paths start with: `plays` in the playbook, nothing in a role's or an included file. */
  root: PathPart[];
  /** Where an argument (by plumb's name: an alias, key=value or args: may have written it elsewhere) is, relative to the task. */
  argPath(path: PathPart[]): PathPart[];
}
const playMeta = new WeakMap<Play, PlayMeta>();
const taskMeta = new WeakMap<Task, TaskMeta>();
export const metaOfPlay = (p: Play): PlayMeta | undefined => playMeta.get(p);
export const metaOfTask = (t: Task): TaskMeta | undefined => taskMeta.get(t);

/** Ansible keywords plumb knowingly does not implement: say so instead of "unknown key". */
const UNSUPPORTED_TASK_KEYS = new Set(['vars', 'environment', 'no_log', 'diff', 'local_action', 'async', 'poll']);

/**
 * The dynamic half of Ansible's language (issue 13): named as such, so a role
 * that uses it fails at the construct, not later with a knock-on error (an
 * undefined registered variable, a missing loop item).
 */
// Every named one is built now (loops, register, blocks…); the with_* lookups plumb lacks remain.
const DYNAMIC_TASK_KEYS = new Set<string>();
const isDynamicKey = (key: string) => DYNAMIC_TASK_KEYS.has(key) || /^with_[a-z_]+$/.test(key);
export const NOT_YET = 'is not supported yet (issue 13: loops, register, facts, blocks)';

const INCLUDE_KEYS = new Set(['import_tasks', 'include_tasks', 'import_role', 'include_role']);

export interface PlaybookOptions {
  /** Where roles are looked for after `roles/` beside the playbook (--roles-path, then ansible.cfg's roles_path). */
  rolesPath?: string[];
}

export function loadPlaybook(file: string, diags: DiagnosticList, options: PlaybookOptions = {}): Playbook | undefined {
  const src = readYaml(file, diags, 'playbook');
  if (!src) return undefined;
  const root = src.doc.contents as Node;
  if (!Array.isArray(src.value) || !isSeq(root)) {
    const hint = isMap(root) ? ' (start each play with "- ", e.g. "- hosts: mailers")' : '';
    diags.error(posOf(src, root), `expected a list of plays, found ${describeValue(src.value)}${hint}`);
    return undefined;
  }
  if (src.value.length === 0) {
    diags.error(posOf(src, root), 'the playbook has no plays');
    return undefined;
  }
  const ctx = new Checker(src, root, diags, ['plays'], options);
  const plays: Play[] = [];
  src.value.forEach((value, i) => {
    const play = ctx.play(value, [i]);
    if (play) plays.push(play);
  });
  return { file, plays };
}

export class Checker {
  constructor(
    readonly src: YamlSource,
    readonly root: Node,
    readonly diags: DiagnosticList,
    /** What error paths start with: `plays` in the playbook, nothing in a role's or an included file. */
    readonly pathRoot: PathPart[],
    readonly options: PlaybookOptions,
  ) {}

  /** A checker for another file of the same playbook (a role's, an included one). */
  forFile(src: YamlSource): Checker {
    return new Checker(src, src.doc.contents as Node, this.diags, [], this.options);
  }

  /** The narrow view dynamic-keys.ts checks through. */
  private keyChecker(): KeyChecker {
    return {
      error: (p, m, at) => this.error(p, m, at),
      warning: (p, m) => this.diags.warning(keyPos(this.src, this.root, p), m, this.dp(p)),
      templates: (v, p) => this.templates(v, p),
      conditions: (c, p) => this.conditions(c, p),
      file: this.src.file,
    };
  }

  dp(path: PathPart[]): string {
    return formatPath([...this.pathRoot, ...path]);
  }

  error(path: PathPart[], message: string, at: 'value' | 'key' = 'value'): void {
    const pos = at === 'key' ? keyPos(this.src, this.root, path) : valuePos(this.src, this.root, path);
    this.diags.error(pos, message, this.dp(path));
  }

  /** Validate one value with a zod schema; every issue becomes a positioned error. */
  check(
    schema: z.ZodType,
    value: unknown,
    path: PathPart[],
    knownKeys?: readonly string[],
    skipTemplated = false,
    at: (p: PathPart[]) => PathPart[] = (p) => [...path, ...p],
  ): boolean {
    const r = schema.safeParse(value);
    if (r.success) return true;
    let reported = false;
    for (const issue of r.error.issues) {
      const flat = flattenIssue(issue, value);
      const full = at(flat.path);
      // A problem on (or inside) a templated value can only be judged once rendered, per host
      // (validate's render pass, and the engine before it probes): it is deferred, never waived.
      if (skipTemplated && !flat.badKey && !flat.keys && !literalOnly(issue) && templatedAt(value, flat.path)) continue;
      reported = true;
      if (flat.keys) {
        for (const k of flat.keys) {
          const hint = knownKeys ? didYouMean(k, knownKeys) : '';
          const list = knownKeys && !hint ? `; expected one of: ${knownKeys.join(', ')}` : '';
          this.error(at([...flat.path, k]), `unknown key "${k}"${hint}${list}`, 'key');
        }
      } else if (flat.badKey) {
        this.error(full, flat.message, 'key');
      } else if (flat.missing) {
        this.error(at(flat.path.slice(0, -1)), flat.message);
      } else {
        this.error(full, flat.message);
      }
    }
    return !reported;
  }

  /** One play: its keys, variables, secrets, tasks and handlers, each checked; undefined when any is wrong. */
  play(value: unknown, path: PathPart[]): Play | undefined {
    const node = locate(this.root, path).node;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.error(path, `expected a play (a mapping with hosts: and tasks:), found ${describeValue(value)}`);
      return undefined;
    }
    const raw = yaml11Keywords(value as Record<string, unknown>, playKeywords, (k) => this.written([...path, k]));
    const errorsBefore = this.diags.items.filter((d) => d.severity === 'error').length;
    let ok = this.playKeys(raw, path, node);
    const meta: PlayMeta = { hostsPos: valuePos(this.src, this.root, [...path, 'hosts']), varPositions: new Map(), secretPositions: new Map() };
    const vars = this.playVars(raw, path, meta);
    const secrets = this.playSecrets(raw, path, vars.values, meta);
    const expander = new PlayExpander(this);
    const tasks = expander.expand(raw, path);
    const handlers = this.taskList(raw.handlers, [...path, 'handlers'], 'handler');
    const handlerNames = this.handlerNames(raw, path);
    ok = this.roleHandlerNames(expander.handlers, handlerNames.names) && ok;
    handlers.push(...expander.handlers);
    expander.scopeHandlers(handlers);
    ok = vars.ok && secrets.ok && handlerNames.ok && ok;
    for (const key of ['pre_tasks', 'tasks', 'post_tasks', 'handlers'] as const) ok = this.notifies(raw, path, key, handlerNames.names) && ok;
    ok = unknownNotifies(expander.notifySites, new Set(handlerNames.names.keys())) && ok;
    // Every problem of a task, a role or an include is an error already reported.
    if (this.diags.items.filter((d) => d.severity === 'error').length > errorsBefore) ok = false;

    if (!ok) return undefined;
    // A notify names a handler or a topic handlers listen on: the engine sees the handlers it reaches.
    const targets = notifyTargets(handlers.map((h) => ({ name: h.name, listen: h.listen ?? [], role: h.role })));
    for (const t of [...tasks, ...handlers]) t.notify = notifiedHandlers(t.notify, targets);
    const hosts = Array.isArray(raw.hosts) ? (raw.hosts as string[]).join(':') : (raw.hosts as string);
    const play: Play = {
      name: (raw.name as string | undefined) ?? hosts,
      hosts,
      become: (raw.become as boolean | undefined) ?? false,
      become_user: raw.become_user as string | undefined,
      serial: raw.serial as number | string | undefined,
      max_fail_percentage: raw.max_fail_percentage as number | undefined,
      gather_facts: raw.gather_facts as boolean | undefined,
      gather_subset: raw.gather_subset === undefined ? undefined : stringList(raw.gather_subset).flatMap((s) => s.split(',').map((p) => p.trim())),
      ...(raw.any_errors_fatal !== undefined ? { any_errors_fatal: raw.any_errors_fatal as boolean } : {}),
      vars: vars.values,
      vars_files: vars.files,
      secrets: secrets.values,
      tasks,
      handlers,
      pos: posOf(this.src, node),
    };
    playMeta.set(play, meta);
    return play;
  }

  /** Only play keys (a task key here means the tasks: list is missing), hosts present, each keyword's type. */
  private playKeys(raw: Record<string, unknown>, path: PathPart[], node: Node | null | undefined): boolean {
    let ok = true;
    for (const key of Object.keys(raw)) {
      if ((playKeywordNames as string[]).includes(key)) continue;
      ok = false;
      if ((moduleNames as string[]).includes(key) || ((taskKeywordNames as string[]).includes(key) && key !== 'name')) {
        this.error([...path, key], `"${key}" is a task key, not a play key: put tasks in a list under "tasks:"`, 'key');
      } else {
        const hint = didYouMean(key, playKeywordNames);
        this.error([...path, key], `unknown play key "${key}"${hint || `; a play has ${playKeywordNames.join(', ')}`}`, 'key');
      }
    }
    if (raw.hosts === undefined) {
      ok = false;
      this.diags.error(posOf(this.src, node), 'the play has no "hosts" (the host pattern it runs on, e.g. "hosts: mailers")', this.dp(path));
    }
    for (const key of playKeywordNames) {
      if (raw[key] === undefined) continue;
      if (!this.check(playKeywords[key as PlayKeyword], raw[key], [...path, key])) ok = false;
    }
    return ok;
  }

  /** The play's vars and its vars_files (which override vars, as in Ansible). */
  private playVars(raw: Record<string, unknown>, path: PathPart[], meta: PlayMeta): { values: Record<string, unknown>; files: string[]; ok: boolean } {
    let ok = true;
    const values: Record<string, unknown> = {};
    const files: string[] = [];
    if (isRecord(raw.vars)) ok = this.variables(raw.vars, [...path, 'vars'], meta.varPositions, this.src) && ok;
    if (Array.isArray(raw.vars_files)) {
      raw.vars_files.forEach((f, i) => {
        if (typeof f !== 'string') return;
        const resolved = isAbsolute(f) ? f : join(dirname(this.src.file), f);
        files.push(resolved);
        const loaded = this.varsFile(resolved, [...path, 'vars_files', i], meta.varPositions);
        if (loaded) Object.assign(values, loaded);
        else ok = false;
      });
    }
    if (isRecord(raw.vars)) for (const [k, v] of Object.entries(raw.vars)) if (!(k in values)) values[k] = v;
    return { values, files, ok };
  }

  /** The play's secrets: names checked, literal ones long enough and hidden from now on, none also a var. */
  private playSecrets(raw: Record<string, unknown>, path: PathPart[], vars: Record<string, unknown>, meta: PlayMeta): { values: Record<string, string>; ok: boolean } {
    const values: Record<string, string> = {};
    if (!isRecord(raw.secrets)) return { values, ok: true };
    let ok = this.variables(raw.secrets, [...path, 'secrets'], meta.secretPositions, this.src);
    for (const [k, v] of Object.entries(raw.secrets)) {
      if (typeof v === 'string') {
        values[k] = v;
        // A literal secret (no template) is known now: keep it out of error messages.
        if (!isTemplate(v) && v.length < MIN_SECRET_LENGTH) {
          ok = false;
          this.error([...path, 'secrets', k], shortSecretMessage(`secret "${k}"`));
        } else if (!isTemplate(v)) this.diags.redactor.add(v, `secret "${k}"`);
      }
      if (Object.hasOwn(vars, k)) {
        ok = false;
        this.error([...path, 'secrets', k], `"${k}" is defined both in vars and in secrets; define it once`, 'key');
      }
    }
    return { values, ok };
  }

  /** What a notify may name → a handler's index: handler names (a name used twice is an error), then listen topics. */
  private handlerNames(raw: Record<string, unknown>, path: PathPart[]): { names: Map<string, number>; ok: boolean } {
    let ok = true;
    const names = new Map<string, number>();
    const handlers = Array.isArray(raw.handlers) ? raw.handlers : [];
    handlers.forEach((h, i) => {
      if (!isRecord(h) || typeof h.name !== 'string') return;
      if (names.has(h.name)) {
        ok = false;
        this.error([...path, 'handlers', i, 'name'], `a handler named "${h.name}" already exists in this play`);
      }
      names.set(h.name, i);
    });
    handlers.forEach((h, i) => {
      if (isRecord(h)) for (const topic of stringList(h.listen)) if (!names.has(topic)) names.set(topic, i);
    });
    return { names, ok };
  }

  /** A role's handler may not take the name of another handler of the play (notify could not tell them apart). */
  private roleHandlerNames(handlers: Task[], names: Map<string, number>): boolean {
    let ok = true;
    for (const h of handlers) {
      if (names.has(h.name)) {
        ok = false;
        const meta = metaOfTask(h)!;
        this.diags.error(
          valuePos(meta.src, meta.src.doc.contents as Node, [...meta.path, 'name']),
          `a handler named "${h.name}" already exists in this play`,
          formatPath([...meta.path, 'name']),
        );
      }
      names.set(h.name, -1);
      if (h.role) names.set(qualifiedHandlerName(h.role, h.name), -1);
    }
    return ok;
  }

  /** Every notify names a handler of the play. Checked on the raw entries, so a task with other errors still gets its notify checked. */
  private notifies(raw: Record<string, unknown>, path: PathPart[], key: 'pre_tasks' | 'tasks' | 'post_tasks' | 'handlers', handlerNames: Map<string, number>): boolean {
    return this.notifiesIn(Array.isArray(raw[key]) ? (raw[key] as unknown[]) : [], [...path, key], new Set(handlerNames.keys()));
  }

  /** Every notify of the raw task entries `list` (at `path`) names one of `handlerNames`. */
  notifiesIn(list: unknown[], path: PathPart[], handlerNames: ReadonlySet<string>): boolean {
    let ok = true;
    list.forEach((t, i) => {
      if (!isRecord(t)) return;
      const notify = t.notify;
      const names = typeof notify === 'string' ? [notify] : Array.isArray(notify) ? notify : [];
      names.forEach((n, j) => {
        if (typeof n !== 'string' || handlerNames.has(n)) return;
        ok = false;
        const near = closest(n, handlerNames, 1);
        const known = handlerNames.size ? `handlers of this play: ${[...handlerNames].map((h) => `"${h}"`).join(', ')}` : 'this play has no handlers';
        this.error(
          Array.isArray(notify) ? [...path, i, 'notify', j] : [...path, i, 'notify'],
          `notify names handler "${n}", which does not exist (${near.length ? `did you mean "${near[0]}"?` : known})`,
        );
      });
    });
    return ok;
  }

  /** Conditions (`when:` and the like, a string or a list) parse; each problem is positioned. */
  conditions(cond: unknown, path: PathPart[]): boolean {
    let ok = true;
    const list = typeof cond === 'string' ? [cond] : Array.isArray(cond) ? cond : [];
    list.forEach((c, j) => {
      if (typeof c !== 'string') return;
      try {
        checkCondition(c);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        ok = false;
        this.error(Array.isArray(cond) ? [...path, j] : path, `invalid condition: ${err.detail}`);
      }
    });
    return ok;
  }

  /** Variable names, template syntax of their values, and where each was defined. */
  variables(vars: Record<string, unknown>, path: PathPart[], positions: Map<string, SourcePos>, src: YamlSource, root: Node = this.root): boolean {
    let ok = true;
    for (const [k, v] of Object.entries(vars)) {
      const p = [...path, k];
      const error = (m: string) => {
        ok = false;
        this.diags.error(keyPos(src, root, p), m, src === this.src ? this.dp(p) : formatPath(p));
      };
      if (!isVariableName(k)) error(`invalid variable name "${k}": use letters, digits and _, not starting with a digit`);
      else if (reservedVariables.includes(k)) error(`"${k}" is provided by plumb and cannot be redefined`);
      positions.set(k, posOf(src, locate(root, p).node));
      ok = this.templates(v, p, src, root) && ok;
    }
    return ok;
  }

  /** Syntax-check every template string inside a value. */
  templates(value: unknown, path: PathPart[], src: YamlSource = this.src, root: Node = this.root): boolean {
    if (typeof value === 'string') {
      if (!isTemplate(value)) return true;
      try {
        checkTemplate(value);
        return true;
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        this.diags.error(valuePos(src, root, path), `template error: ${err.detail}`, src === this.src ? this.dp(path) : formatPath(path));
        return false;
      }
    }
    let ok = true;
    if (Array.isArray(value)) value.forEach((v, i) => (ok = this.templates(v, [...path, i], src, root) && ok));
    else if (isRecord(value)) for (const [k, v] of Object.entries(value)) ok = this.templates(v, [...path, k], src, root) && ok;
    return ok;
  }

  private varsFile(file: string, at: PathPart[], positions: Map<string, SourcePos>): Record<string, unknown> | undefined {
    const before = this.diags.items.length;
    const src = readYaml(file, this.diags, 'vars file');
    if (!src) {
      // Point at the vars_files entry when the file itself could not be opened.
      const last = this.diags.items[this.diags.items.length - 1];
      if (this.diags.items.length > before && last.message.startsWith('cannot read')) {
        this.diags.items.pop();
        this.error(at, `${last.message.replace('cannot read vars file', `cannot read vars file ${file}`)}`);
      }
      return undefined;
    }
    const root = src.doc.contents as Node;
    if (!isRecord(src.value)) {
      this.diags.error(posOf(src, root), `expected a mapping of variables, found ${describeValue(src.value)}`);
      return undefined;
    }
    return this.variables(src.value, [], positions, src, root) ? src.value : undefined;
  }

  private taskList(value: unknown, path: PathPart[], kind: 'task' | 'handler'): Task[] {
    if (!Array.isArray(value)) return [];
    const out: Task[] = [];
    value.forEach((t, i) => {
      const task = this.task(t, [...path, i], kind);
      if (task) out.push(task);
    });
    return out;
  }

  /** A scalar as written in the document, at a path. */
  private written(path: PathPart[]): Written | undefined {
    const at = locate(this.root, path);
    return at.exact ? writtenScalar(this.src.text, at.node) : undefined;
  }

  task(written: unknown, path: PathPart[], kind: 'task' | 'handler'): Task | undefined {
    const node = locate(this.root, path).node;
    if (!isRecord(written)) {
      this.error(path, `expected a ${kind} (a mapping with a module such as "apt:" or "copy:"), found ${describeValue(written)}`);
      return undefined;
    }
    const value = yaml11Keywords(written, taskKeywords, (k) => this.written([...path, k]));
    let ok = true;
    const modules: string[] = [];
    let metaKey: string | undefined; // blocks/meta hook: `meta:` is not a module
    for (const key of Object.keys(value)) {
      if ((taskKeywordNames as string[]).includes(key)) {
        if (!this.check(taskKeywords[key as TaskKeyword], value[key], [...path, key])) ok = false;
      } else if (key === 'args') {
        // Read with the module's arguments.
      } else if (key === 'listen') {
        if (kind === 'task') {
          ok = false;
          this.error([...path, key], '"listen" belongs on a handler: it names topics a notify may use', 'key');
        } else if (!this.check(taskKeywords.notify, value[key], [...path, key])) ok = false;
      } else if (shortName(key) === 'set_fact') {
        modules.push(key);
      } else if (isDynamicKey(shortName(key))) {
        ok = false;
        this.error([...path, key], `"${key}" ${NOT_YET}`, 'key');
      } else if (key === 'block' || key === 'rescue' || key === 'always') {
        ok = false;
        this.error([...path, key], `"${key}" in handlers is not supported: plumb's handlers are single tasks`, 'key');
      } else if (shortName(key) === 'meta') {
        if (kind === 'handler') {
          ok = false;
          this.error([...path, key], '"meta" in handlers is not supported: plumb\'s handlers are single tasks', 'key');
        } else metaKey = key;
      } else if (INCLUDE_KEYS.has(shortName(key))) {
        ok = false;
        this.error(
          [...path, key],
          kind === 'handler' ? `"${key}" in handlers is not supported: plumb's handlers are single tasks` : `"${key}" must be written as a task of its own, not beside a module`,
          'key',
        );
      } else if (shortName(key) === 'include_vars') {
        ok = false;
        this.error(
          [...path, key],
          kind === 'handler' ? `"${key}" in handlers is not supported: plumb's handlers are single tasks` : `"${key}" must be written as a task of its own, not beside a module`,
          'key',
        );
      } else if (UNSUPPORTED_TASK_KEYS.has(shortName(key))) {
        ok = false;
        this.error([...path, key], `"${key}" is an Ansible keyword plumb does not support`, 'key');
      } else if (resolveModule(key).kind !== 'unknown') {
        modules.push(key);
      } else if (shortName(key) !== key && (moduleNames as string[]).includes(shortName(key))) {
        ok = false;
        this.error([...path, key], `Ansible has no module "${key}": ${shortName(key)} is plumb's own module; write "${shortName(key)}"`, 'key');
      } else {
        ok = false;
        const short = shortName(key);
        if (isDynamicKey(short)) {
          this.error([...path, key], `"${key}" ${NOT_YET}`, 'key');
        } else {
          const hint = didYouMean(key, [...taskKeywordNames, ...moduleSpellings()]);
          this.error([...path, key], `unknown key "${key}" in ${kind}${hint || `; modules: ${moduleNames.join(', ')}`}`, 'key');
        }
      }
    }
    if (kind === 'handler' && value.name === undefined && value.listen === undefined) {
      ok = false;
      this.diags.error(posOf(this.src, node), 'a handler needs a "name": tasks notify it by name', this.dp(path));
    }
    if (metaKey !== undefined && modules.length > 0) {
      this.error([...path, modules[0]], `the task has "${metaKey}" and a module ("${modules[0]}"); split it into one task each`, 'key');
      return undefined;
    }
    const delegate = value.delegate_to === undefined ? undefined : readDelegate(this, value.delegate_to, [...path, 'delegate_to']);
    if (value.delegate_to !== undefined && !delegate) ok = false;
    if (metaKey !== undefined) return this.metaTask(value, path, metaKey, ok);
    if (modules.length === 0) {
      if (ok) this.diags.error(posOf(this.src, node), `the ${kind} has no module; add one of: ${moduleNames.join(', ')}`, this.dp(path));
      return undefined;
    }
    if (modules.length > 1) {
      this.error([...path, modules[1]], `the ${kind} has more than one module ("${modules[0]}" and "${modules[1]}"); split it into one ${kind} per module`, 'key');
      return undefined;
    }
    const key = modules[0];
    const ref = resolveModule(key);
    let module: string;
    let args: unknown;
    let argPath: (p: PathPart[]) => PathPart[] = (p) => [key, ...p];
    if (shortName(key) === 'set_fact') {
      module = 'set_fact';
      args = setFactArgs(this.keyChecker(), value[key], [...path, key]);
      if (args === undefined) ok = false;
    } else if (ref.kind === 'plumb') {
      module = ref.module;
      const spelled = spellArguments(ref.module, key, value[key], value.args, (p) => this.written([...path, ...p]));
      for (const issue of spelled.issues) {
        ok = false;
        this.error([...path, ...issue.path], issue.message, issue.at);
      }
      args = spelled.args;
      argPath = spelled.argPath;
      const schema = argSchemas[ref.module] as z.ZodType;
      if (spelled.issues.length === 0 && !this.check(schema, args, [...path, key], objectKeys(schema), true, (p) => [...path, ...spelled.argPath(p)])) ok = false;
    } else {
      // Its arguments cannot be checked; the task fails on any host where it would run.
      module = key;
      args = value[key];
      this.diags.warning(
        keyPos(this.src, this.root, [...path, key]),
        `"${key}" is an Ansible module (${ref.kind === 'ansible' ? ref.where : 'Ansible'}) that plumb does not have: its arguments are not checked, and the ${kind} fails on any host where it runs`,
        this.dp([...path, key]),
      );
    }
    if (!this.templates(value[key], [...path, key])) ok = false;
    if (value.args !== undefined && !this.templates(value.args, [...path, 'args'])) ok = false;
    if (!this.conditions(value.when, [...path, 'when'])) ok = false;
    const dynamic = dynamicKeys(this.keyChecker(), value, path, kind);
    if (!dynamic.ok) ok = false;
    if (typeof value.name === 'string' && !this.templates(value.name, [...path, 'name'])) ok = false;
    if (!ok) return undefined;
    const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string]);
    const when = value.when;
    const task: Task = {
      name: (value.name as string | undefined) ?? defaultName(module, args),
      module,
      args,
      notify: list(value.notify),
      ...(kind === 'handler' && value.listen !== undefined ? { listen: stringList(value.listen) } : {}),
      tags: list(value.tags),
      when: when === undefined ? undefined : typeof when === 'boolean' ? String(when) : Array.isArray(when) ? when.map((c) => `(${c})`).join(' and ') : (when as string),
      become: value.become as boolean | undefined,
      become_user: value.become_user as string | undefined,
      ignore_errors: (value.ignore_errors as boolean | undefined) ?? false,
      pos: posOf(this.src, node),
      ...dynamic.fields,
      ...taskRunKeywords(value, delegate),
    };
    taskMeta.set(task, { src: this.src, path, root: this.pathRoot, argPath: (p) => [...path, ...argPath(p)] });
    return task;
  }

  /** A `meta:` task (blocks/meta hook): its action instead of a module. */
  private metaTask(value: Record<string, unknown>, path: PathPart[], key: string, ok: boolean): Task | undefined {
    const action = readMeta(this, value[key], [...path, key]);
    for (const k of ['when'] as const) if (!this.conditions(value[k], [...path, k])) ok = false;
    for (const k of ['notify', 'changed_when', 'delegate_to'] as const) {
      if (value[k] === undefined) continue;
      ok = false;
      this.error([...path, k], `"${k}" has no meaning on a meta task`, 'key');
    }
    if (!action || !ok) return undefined;
    const when = value.when;
    const task: Task = {
      name: (value.name as string | undefined) ?? `meta: ${action}`,
      module: 'meta',
      args: action,
      meta: action,
      notify: [],
      tags: value.tags === undefined ? [] : Array.isArray(value.tags) ? (value.tags as string[]) : [value.tags as string],
      when: when === undefined ? undefined : typeof when === 'boolean' ? String(when) : Array.isArray(when) ? when.map((c) => `(${c})`).join(' and ') : (when as string),
      ignore_errors: false,
      pos: posOf(this.src, locate(this.root, path).node),
      ...taskRunKeywords(value, undefined),
    };
    taskMeta.set(task, { src: this.src, path, root: this.pathRoot, argPath: (p) => [...path, key, ...p] });
    return task;
  }
}

/** run_once, delegate_to, any_errors_fatal, ignore_unreachable: only those written (a block may give the others). */
function taskRunKeywords(value: Record<string, unknown>, delegate: 'localhost' | undefined): Partial<Task> {
  const out: Partial<Task> = {};
  if (value.run_once !== undefined) out.run_once = value.run_once as boolean;
  if (delegate) out.delegate_to = delegate;
  if (value.any_errors_fatal !== undefined) out.any_errors_fatal = value.any_errors_fatal as boolean;
  if (value.ignore_unreachable !== undefined) out.ignore_unreachable = value.ignore_unreachable as boolean;
  return out;
}

/** Whether `path` lands on or inside a template string of `value`. */
function templatedAt(value: unknown, path: readonly PathPart[]): boolean {
  for (let i = 0; i <= path.length; i++) {
    const v = valueAt(value, path.slice(0, i));
    if (typeof v === 'string' && isTemplate(v)) return true;
  }
  return false;
}

/** An issue the module raised because the value must be written literally (e.g. a templated `unless`). */
function literalOnly(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'custom' && (issue as { params?: { plumb?: string } }).params?.plumb === LITERAL_ONLY;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The keys a (possibly wrapped) zod object schema accepts, for "did you mean". */
export function objectKeys(schema: z.ZodType): string[] | undefined {
  let s: any = schema;
  for (let i = 0; i < 10 && s; i++) {
    if (s.shape) return Object.keys(s.shape);
    const def = s._zod?.def ?? s.def;
    if (!def) return undefined;
    s = def.out && def.type === 'pipe' ? (def.out.shape ? def.out : def.in?.shape ? def.in : def.out) : (def.innerType ?? def.schema);
  }
  return undefined;
}

/** "apt: postfix, libsasl2-modules" — a readable name for a task without one, from the module's title (never includes file content). */
export function defaultName(module: string, args: unknown): string {
  let summary = '';
  if (typeof args === 'string') summary = args;
  else if (isRecord(args) && module in modules) summary = modules[module as ModuleName].title(args);
  summary = summary.replace(/\s+/g, ' ').trim();
  if (summary.length > 60) summary = summary.slice(0, 57) + '...';
  return summary ? `${module}: ${summary}` : module;
}
