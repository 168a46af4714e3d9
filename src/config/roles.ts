/**
 * The structure of an Ansible play, flattened at load time into one task
 * list: pre_tasks, roles (each after its meta dependencies), tasks,
 * post_tasks; `import_tasks`/`include_tasks` and `import_role`/`include_role`
 * expanded in place. Every construct must be static (a file or role name
 * written literally): plumb loads, checks and plans every task before it
 * contacts a host. A role's handlers join the play's.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { isSeq } from 'yaml';
import { z } from 'zod';
import { isTemplate } from '../template/expr.js';
import { describeValue } from '../source/issues.js';
import { closest, didYouMean } from '../source/suggest.js';
import { isVariableName } from '../source/names.js';
import type { SourcePos } from '../source/pos.js';
import { locate, posOf, readYaml, type PathPart, type YamlSource } from '../source/yaml.js';
import type { BlockFrame, IncludedVars, ScopedVars, Task } from './model.js';
import { includeVarsKey, loadIncludeVars } from './include-vars.js';
import { metaOfTask, type Checker } from './playbook.js';
import { isBlockEntry, readBlock, type BlockKeywords } from './blocks.js';
import { valueAt } from '../source/issues.js';

/** The keywords enclosing blocks give their tasks, and the chain of blocks. */
type BlockInherited = Omit<BlockKeywords, 'when' | 'tags' | 'vars'> & { frames: BlockFrame[] };

/** What the enclosing constructs (a role entry, an include) give the tasks inside them. */
interface Inherited {
  tags: string[];
  when: string[];
  become?: boolean;
  become_user?: string;
  scoped?: ScopedVars;
  /** Parameters of the innermost include (`vars:` on import_tasks/include_tasks): over role parameters. */
  includeVars?: Record<string, unknown>;
  role?: { name: string; dir: string };
  /** Absolute paths of the task files being expanded, outermost first: a file that includes itself is a cycle. */
  files: string[];
  /** Role directories being expanded through dependencies and role includes. */
  roles: string[];
  /** What enclosing blocks give (src/config/blocks.ts). */
  block?: BlockInherited;
}

interface RoleRun {
  tasks: Task[];
  /** The role's variables (with its dependencies'), for a role that depends on it. */
  scoped?: ScopedVars;
}

/** One role directory's files, read and checked once per play. */
interface RoleFiles {
  name: string;
  dir: string;
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  positions: Map<string, SourcePos>;
  allowDuplicates: boolean;
  dependencies: Array<{ value: unknown; path: PathPart[]; checker: Checker }>;
  ok: boolean;
}

const roleEntryKeys = ['role', 'name', 'vars', 'tags', 'when', 'become', 'become_user'] as const;
const includeTaskKeys = ['name', 'tags', 'when', 'vars', 'become', 'become_user'] as const;
const roleIncludeArgs = ['name', 'tasks_from', 'handlers_from', 'vars_from', 'defaults_from', 'allow_duplicates', 'public'] as const;
const TASK_FILES = ['main.yml', 'main.yaml', 'main'];
const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1))]);
const conditions = z.union([z.string().min(1), z.boolean(), z.array(z.string().min(1))]);

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [String(v)]);
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Expands the sections of one play; `handlers` collects its roles' handlers. */
export class PlayExpander {
  readonly handlers: Task[] = [];
  /** Raw task lists of other files, whose `notify` names are checked once every handler is known. */
  readonly notifySites: Array<{ checker: Checker; list: unknown[]; path: PathPart[] }> = [];
  private readonly roleFiles = new Map<string, RoleFiles | undefined>();
  /** Roles already run in this play (dir + parameters): run once unless allow_duplicates. */
  private readonly ran = new Map<string, ScopedVars>();
  private readonly handlerFilesLoaded = new Set<string>();
  private readonly playbookDir: string;
  /** The include_vars tasks met so far in the play, in order: every later task (and every handler) is scoped by them. */
  private included: readonly IncludedVars[] = [];
  /** One scope object per (role or include scope, include_vars so far), so a host's scope is built once per pair. */
  private readonly withIncludedMemo = new Map<ScopedVars | undefined, Map<readonly IncludedVars[], ScopedVars>>();

  constructor(private readonly playbook: Checker) {
    this.playbookDir = dirname(playbook.src.file);
  }

  /** pre_tasks, roles, tasks, post_tasks, in Ansible's order. */
  expand(raw: Record<string, unknown>, path: PathPart[]): Task[] {
    const top: Inherited = { tags: [], when: [], files: [resolve(this.playbook.src.file)], roles: [] };
    const out: Task[] = [];
    for (const key of ['pre_tasks', 'roles', 'tasks', 'post_tasks'] as const) {
      const value = raw[key];
      if (!Array.isArray(value)) continue;
      const before = out.length;
      if (key === 'roles') value.forEach((entry, i) => out.push(...this.roleEntry(this.playbook, entry, [...path, key, i], top).tasks));
      else out.push(...this.taskList(this.playbook, value, [...path, key], top));
      // Handlers flush after pre_tasks, after roles and tasks, after post_tasks.
      if (key === 'pre_tasks' || key === 'post_tasks') for (const t of out.slice(before)) t.phase = key;
    }
    return out;
  }

  private taskList(checker: Checker, value: unknown[], path: PathPart[], inh: Inherited): Task[] {
    const out: Task[] = [];
    value.forEach((written, i) => {
      const at = [...path, i];
      const entry = isRecord(written) ? shortIncludeKeys(written) : written;
      const key = isRecord(entry) ? ['import_tasks', 'include_tasks', 'import_role', 'include_role'].find((k) => k in entry) : undefined;
      const varsKey = isRecord(entry) ? includeVarsKey(entry) : undefined;
      if (varsKey) this.includeVars(checker, entry as Record<string, unknown>, at, varsKey, inh);
      else if (isBlockEntry(entry)) out.push(...this.block(checker, entry, at, inh));
      else if (key === 'import_tasks' || key === 'include_tasks') out.push(...this.includeTasks(checker, entry as Record<string, unknown>, at, key, inh));
      else if (key === 'import_role' || key === 'include_role') out.push(...this.includeRole(checker, entry as Record<string, unknown>, at, key, inh));
      else {
        const task = checker.task(entry, at, 'task');
        if (task) out.push(this.inherit(task, inh, checker));
      }
    });
    return out;
  }

  /** The task with what its role or include gives it: tags, conditions, become, variables, where its files are. */
  private inherit(task: Task, inh: Inherited, checker: Checker): Task {
    task.tags = [...new Set([...inh.tags, ...task.tags])];
    const when = [...inh.when, ...(task.when === undefined ? [] : [task.when])];
    task.when = when.length === 0 ? undefined : when.length === 1 ? when[0] : when.map((c) => `(${c})`).join(' and ');
    task.become ??= inh.become;
    task.become_user ??= inh.become_user;
    const scoped = this.withIncluded(inh.scoped);
    if (scoped) task.scoped = scoped;
    if (inh.block) inheritFromBlocks(task, inh.block);
    if (inh.role) task.role = inh.role.name;
    const fileDir = dirname(checker.src.file);
    // Every task has them: a playbook task's relative src is looked for in templates/ or files/ beside the playbook first, as Ansible does.
    task.searchDirs = [...new Set([...(inh.role ? [inh.role.dir] : []), fileDir, this.playbookDir])];
    return task;
  }

  /** `scoped` with the include_vars met so far layered in (the same object for the same pair). */
  private withIncluded(scoped: ScopedVars | undefined): ScopedVars | undefined {
    if (this.included.length === 0) return scoped;
    let byIncluded = this.withIncludedMemo.get(scoped);
    if (!byIncluded) this.withIncludedMemo.set(scoped, (byIncluded = new Map()));
    let s = byIncluded.get(this.included);
    if (!s) byIncluded.set(this.included, (s = { ...(scoped ?? { defaults: {}, vars: {}, positions: new Map() }), included: this.included }));
    return s;
  }

  /**
   * An include_vars task: its files are read now; their variables scope every
   * later task of the play (as Ansible's include_vars stays for the host), on the
   * hosts where its `when` holds. It is not a task of its own in plumb's plan.
   */
  private includeVars(checker: Checker, entry: Record<string, unknown>, path: PathPart[], key: string, inh: Inherited): void {
    const ok = this.keywords(checker, entry, path, key, ['name', 'tags', 'when']);
    if (typeof entry.name === 'string') checker.templates(entry.name, [...path, 'name']);
    const where = { roleDir: inh.role?.dir, fileDir: dirname(checker.src.file), playbookDir: this.playbookDir };
    const loaded = loadIncludeVars(checker, entry[key], [...path, key], where);
    if (!ok || !loaded) return;
    const inner = this.narrowed(entry, inh);
    const when = inner.when.length === 0 ? undefined : inner.when.length === 1 ? inner.when[0] : inner.when.map((c) => `(${c})`).join(' and ');
    const whenNode = locate(checker.root, entry.when === undefined ? path : [...path, 'when']).node;
    this.included = [
      ...this.included,
      { vars: loaded.vars, positions: loaded.positions, when, whenPos: posOf(checker.src, whenNode), tags: [...new Set(inner.tags)], at: this.withIncluded(inh.scoped) },
    ];
  }

  /** Handlers run after the play's tasks: they see every include_vars of the play. */
  scopeHandlers(handlers: Task[]): void {
    for (const h of handlers) {
      const scoped = this.withIncluded(h.scoped);
      if (scoped) h.scoped = scoped;
    }
  }

  /** A block: its sections expanded in place, each task carrying the block and inheriting its keywords. */
  private block(checker: Checker, entry: Record<string, unknown>, path: PathPart[], inh: Inherited): Task[] {
    const read = readBlock(checker, entry, path);
    if (!read) return [];
    const k = read.keywords;
    let scoped = inh.scoped;
    if (k.vars) {
      const positions = new Map<string, SourcePos>();
      checker.variables(k.vars, [...path, 'vars'], positions, checker.src, checker.root);
      const base = inh.scoped ?? { defaults: {}, vars: {}, positions: new Map() };
      scoped = { defaults: base.defaults, vars: { ...base.vars, ...k.vars }, positions: new Map([...base.positions, ...positions]) };
    }
    const outer = inh.block;
    const out: Task[] = [];
    for (const { section, list, path: at } of read.sections) {
      // Notify names inside a block are checked with the play's handlers like any other task list's.
      this.notifySites.push({ checker, list, path: at });
      const inner: Inherited = {
        ...inh,
        tags: [...inh.tags, ...k.tags],
        when: [...inh.when, ...k.when],
        scoped,
        become: k.become ?? inh.become,
        become_user: k.become_user ?? inh.become_user,
        block: {
          frames: [...(outer?.frames ?? []), { block: read.block, section }],
          notify: [...(outer?.notify ?? []), ...k.notify],
          ignore_errors: k.ignore_errors ?? outer?.ignore_errors,
          run_once: k.run_once ?? outer?.run_once,
          delegate_to: k.delegate_to ?? outer?.delegate_to,
          any_errors_fatal: k.any_errors_fatal ?? outer?.any_errors_fatal,
          ignore_unreachable: k.ignore_unreachable ?? outer?.ignore_unreachable,
        },
      };
      out.push(...this.taskList(checker, list, at, inner));
    }
    return out;
  }

  /** Keys of an include or a role entry: the known ones checked, the rest reported (or, for a role entry, its parameters). */
  private keywords(checker: Checker, entry: Record<string, unknown>, path: PathPart[], construct: string, known: readonly string[], params?: Record<string, unknown>): boolean {
    let ok = true;
    for (const key of Object.keys(entry)) {
      if (key === construct || known.includes(key)) continue;
      const hint = didYouMean(key, known);
      if (params && !hint && isVariableName(key)) {
        // Ansible's old spelling: `- { role: x, port: 25 }` passes port as a role parameter.
        params[key] = entry[key];
        continue;
      }
      ok = false;
      checker.error([...path, key], `unknown key "${key}" in ${construct}${hint || `; expected one of: ${known.join(', ')}`}`, 'key');
    }
    const schemas: Record<string, z.ZodType> = {
      tags: stringOrList,
      when: conditions,
      become: z.boolean(),
      become_user: z.string().min(1),
      vars: z.record(z.string(), z.unknown()).nullable(),
    };
    for (const [key, schema] of Object.entries(schemas)) {
      if (entry[key] === undefined || !known.includes(key)) continue;
      if (!checker.check(schema, entry[key], [...path, key])) ok = false;
    }
    return checker.conditions(entry.when, [...path, 'when']) && ok;
  }

  /** What an entry adds to the inherited tags, conditions and become. */
  private narrowed(entry: Record<string, unknown>, inh: Inherited): Inherited {
    const when = entry.when;
    const own = when === undefined ? [] : typeof when === 'boolean' ? [String(when)] : Array.isArray(when) ? (when as string[]) : [when as string];
    return {
      ...inh,
      tags: [...inh.tags, ...list(entry.tags)],
      when: [...inh.when, ...own],
      become: (entry.become as boolean | undefined) ?? inh.become,
      become_user: (entry.become_user as string | undefined) ?? inh.become_user,
    };
  }

  /** A literal name, or an error naming the construct when it is templated or missing. */
  private staticName(checker: Checker, value: unknown, path: PathPart[], construct: string, what: string): string | undefined {
    if (typeof value !== 'string' || value === '') {
      checker.error(path, `${construct} needs a ${what}, found ${describeValue(value)}`);
      return undefined;
    }
    if (isTemplate(value)) {
      checker.error(path, `${construct} with a templated ${what} is not supported yet: plumb loads every task before it contacts a host; write the ${what} literally`);
      return undefined;
    }
    return value;
  }

  private includeTasks(checker: Checker, entry: Record<string, unknown>, path: PathPart[], key: 'import_tasks' | 'include_tasks', inh: Inherited): Task[] {
    let ok = this.keywords(checker, entry, path, key, includeTaskKeys);
    const arg = entry[key];
    const fileValue = isRecord(arg) ? arg.file : arg;
    const at = isRecord(arg) ? [...path, key, 'file'] : [...path, key];
    const name = this.staticName(checker, fileValue, at, key, 'file name');
    const vars = isRecord(entry.vars) ? entry.vars : undefined;
    const positions = new Map<string, SourcePos>();
    if (vars) ok = checker.variables(vars, [...path, 'vars'], positions, checker.src, checker.root) && ok;
    if (!name || !ok) return [];
    const dirs = [dirname(checker.src.file), ...(inh.role ? [join(inh.role.dir, 'tasks')] : []), this.playbookDir];
    const candidates = isAbsolute(name) ? [name] : [...new Set(dirs.map((d) => join(d, name)))];
    const file = candidates.find(isFile);
    if (!file) {
      checker.error(at, `${key}: cannot find "${name}" (looked in ${candidates.join(', ')})`);
      return [];
    }
    if (inh.files.includes(resolve(file))) {
      checker.error(at, `${key} cycle: ${[...inh.files.slice(inh.files.indexOf(resolve(file))), resolve(file)].map((f) => basename(f)).join(' → ')}`);
      return [];
    }
    const tasks = this.readTaskFile(checker, file, at, 'task file');
    if (!tasks) return [];
    let scoped = inh.scoped;
    if (vars) {
      const base: ScopedVars = inh.scoped ?? { defaults: {}, vars: {}, positions: new Map() };
      scoped = { defaults: base.defaults, vars: base.vars, params: { ...base.params, ...vars }, positions: new Map([...base.positions, ...positions]) };
    }
    const inner: Inherited = { ...this.narrowed(entry, inh), scoped, includeVars: vars ? { ...inh.includeVars, ...vars } : inh.includeVars, files: [...inh.files, resolve(file)] };
    return this.taskList(tasks.checker, tasks.list, [], inner);
  }

  /** A task file (or a role's handlers): a list of tasks; an empty file has none. */
  private readTaskFile(checker: Checker, file: string, at: PathPart[], what: string): { checker: Checker; list: unknown[] } | undefined {
    const before = checker.diags.items.length;
    const src = readYaml(file, checker.diags, what);
    if (!src) {
      const last = checker.diags.items.at(-1);
      if (checker.diags.items.length === before + 1 && last?.message === `${what} is empty`) {
        checker.diags.items.pop();
        return { checker, list: [] };
      }
      if (checker.diags.items.length > before && last?.message.startsWith('cannot read')) {
        checker.diags.items.pop();
        checker.error(at, `${last.message.replace(`cannot read ${what}`, `cannot read ${what} ${file}`)}`);
      }
      return undefined;
    }
    const fileChecker = checker.forFile(src);
    if (!Array.isArray(src.value) || !isSeq(fileChecker.root)) {
      checker.diags.error(posOf(src, fileChecker.root), `expected a list of tasks, found ${describeValue(src.value)}`);
      return undefined;
    }
    this.notifySites.push({ checker: fileChecker, list: src.value, path: [] });
    return { checker: fileChecker, list: src.value };
  }

  /** `import_role:` / `include_role:` as a task: static, expanded in place; its `vars:` are role parameters. */
  private includeRole(checker: Checker, entry: Record<string, unknown>, path: PathPart[], key: 'import_role' | 'include_role', inh: Inherited): Task[] {
    let ok = this.keywords(checker, entry, path, key, includeTaskKeys);
    const args = entry[key];
    if (!isRecord(args)) {
      checker.error([...path, key], `${key} needs a mapping with "name:" (the role), found ${describeValue(args)}`);
      return [];
    }
    for (const k of Object.keys(args)) {
      if ((roleIncludeArgs as readonly string[]).includes(k)) continue;
      ok = false;
      checker.error([...path, key, k], `unknown key "${k}" in ${key}${didYouMean(k, roleIncludeArgs) || `; expected one of: ${roleIncludeArgs.join(', ')}`}`, 'key');
    }
    const name = this.staticName(checker, args.name, [...path, key, 'name'], key, 'role name');
    const from: Partial<Record<'tasks' | 'handlers' | 'vars' | 'defaults', string>> = {};
    for (const part of ['tasks', 'handlers', 'vars', 'defaults'] as const) {
      const v = args[`${part}_from`];
      if (v === undefined) continue;
      const n = this.staticName(checker, v, [...path, key, `${part}_from`], `${key} ${part}_from`, 'file name');
      if (n) from[part] = n;
      else ok = false;
    }
    if (args.allow_duplicates !== undefined && typeof args.allow_duplicates !== 'boolean') {
      ok = false;
      checker.error([...path, key, 'allow_duplicates'], `allow_duplicates must be true or false, found ${describeValue(args.allow_duplicates)}`);
    }
    const params = isRecord(entry.vars) ? entry.vars : {};
    if (isRecord(entry.vars)) ok = checker.variables(entry.vars, [...path, 'vars'], new Map(), checker.src, checker.root) && ok;
    if (!name || !ok) return [];
    // Ansible runs an included role again each time unless allow_duplicates: false.
    const once = args.allow_duplicates === false;
    return this.role(checker, name, [...path, key, 'name'], params, this.narrowed(entry, inh), { from, once }).tasks;
  }

  /** One entry of a play's `roles:` or of a role's meta `dependencies`. */
  private roleEntry(checker: Checker, entry: unknown, path: PathPart[], inh: Inherited): RoleRun {
    if (typeof entry === 'string') {
      const name = this.staticName(checker, entry, path, 'a role entry', 'role name');
      return name ? this.role(checker, name, path, {}, inh, { once: true }) : { tasks: [] };
    }
    if (!isRecord(entry)) {
      checker.error(path, `expected a role (a name, or a mapping with "role:"), found ${describeValue(entry)}`);
      return { tasks: [] };
    }
    const params: Record<string, unknown> = {};
    let ok = this.keywords(checker, entry, path, 'role entry', roleEntryKeys, params);
    const nameKey = entry.role !== undefined ? 'role' : 'name';
    if (entry.role === undefined && entry.name === undefined) {
      checker.error(path, 'a role entry needs "role:" (the role to run)');
      return { tasks: [] };
    }
    const name = this.staticName(checker, entry[nameKey], [...path, nameKey], 'a role entry', 'role name');
    const positions = new Map<string, SourcePos>();
    if (isRecord(entry.vars)) ok = checker.variables(entry.vars, [...path, 'vars'], positions, checker.src, checker.root) && ok;
    if (!name || !ok) return { tasks: [] };
    // As in Ansible: `vars:` of a role entry are the role's variables (under its vars/main.yml); other keys are role parameters.
    const entryVars = isRecord(entry.vars) ? entry.vars : undefined;
    return this.role(checker, name, [...path, nameKey], params, this.narrowed(entry, inh), { once: true, positions, entryVars });
  }

  private role(
    checker: Checker,
    name: string,
    at: PathPart[],
    params: Record<string, unknown>,
    inh: Inherited,
    opts: { from?: Partial<Record<'tasks' | 'handlers' | 'vars' | 'defaults', string>>; once: boolean; positions?: Map<string, SourcePos>; entryVars?: Record<string, unknown> },
  ): RoleRun {
    const dir = this.findRole(checker, name, at, inh);
    if (!dir) return { tasks: [] };
    if (inh.roles.includes(dir)) {
      checker.error(at, `role dependency cycle: ${[...inh.roles.slice(inh.roles.indexOf(dir)), dir].map((d) => basename(d)).join(' → ')}`);
      return { tasks: [] };
    }
    const from = opts.from ?? {};
    const files = this.roleFilesOf(checker, dir, name, from);
    if (!files?.ok) return { tasks: [] };
    const key = `${dir}\0${JSON.stringify(from)}\0${JSON.stringify(params)}\0${JSON.stringify(opts.entryVars ?? {})}`;
    const already = this.ran.get(key);
    // A role that already ran still lends its variables to the role that depends on it.
    if (already && opts.once && !files.allowDuplicates) return { tasks: [], scoped: already };
    const roleInh: Inherited = { ...inh, roles: [...inh.roles, dir], role: undefined, scoped: undefined, includeVars: undefined };
    // Dependencies first, each once per play however many roles depend on it.
    const out: Task[] = [];
    const depScopes: ScopedVars[] = [];
    for (const dep of files.dependencies) {
      const run = this.roleEntry(dep.checker, dep.value, dep.path, roleInh);
      out.push(...run.tasks);
      if (run.scoped) depScopes.push(run.scoped);
    }
    const scoped: ScopedVars = {
      defaults: Object.assign({}, ...depScopes.map((s) => s.defaults), files.defaults),
      // A dependency's parameters are its own; to the role that depends on it they are variables.
      vars: Object.assign({}, ...depScopes.map((s) => ({ ...s.vars, ...s.params })), opts.entryVars ?? {}, files.vars),
      params: { ...params, ...inh.includeVars },
      positions: new Map([...depScopes.flatMap((s) => [...s.positions]), ...files.positions, ...(opts.positions ?? [])]),
    };
    this.ran.set(key, scoped);
    const own: Inherited = { ...roleInh, role: { name: basename(name), dir }, scoped, files: [...inh.files] };
    const tasksFile = this.roleFile(dir, 'tasks', from.tasks);
    if (tasksFile) {
      if (own.files.includes(resolve(tasksFile))) {
        checker.error(at, `role cycle: ${basename(dir)} includes itself`);
        return { tasks: out, scoped };
      }
      const t = this.readTaskFile(checker, tasksFile, at, 'task file');
      if (t) out.push(...this.taskList(t.checker, t.list, [], { ...own, files: [...own.files, resolve(tasksFile)] }));
    } else if (from.tasks) checker.error(at, `role "${name}" has no tasks/${from.tasks}`);
    this.roleHandlers(checker, dir, name, at, from.handlers, own);
    return { tasks: out, scoped };
  }

  /** A role's handlers join the play's, once per role (the first use's variables). */
  private roleHandlers(checker: Checker, dir: string, name: string, at: PathPart[], from: string | undefined, own: Inherited): void {
    const file = this.roleFile(dir, 'handlers', from);
    if (!file) {
      if (from) checker.error(at, `role "${name}" has no handlers/${from}`);
      return;
    }
    if (this.handlerFilesLoaded.has(file)) return;
    this.handlerFilesLoaded.add(file);
    const h = this.readTaskFile(checker, file, at, 'handlers file');
    if (!h) return;
    h.list.forEach((entry, i) => {
      const task = h.checker.task(entry, [i], 'handler');
      if (!task) return;
      task.scoped = own.scoped;
      task.role = basename(name);
      task.searchDirs = [dir, this.playbookDir];
      this.handlers.push(task);
    });
  }

  /** Ansible's role search: a path as written; else roles/ beside the playbook, the roles path, the playbook's own directory. */
  private findRole(checker: Checker, name: string, at: PathPart[], inh: Inherited): string | undefined {
    const parent = inh.roles.at(-1);
    const bases = name.includes('/')
      ? [isAbsolute(name) ? '' : this.playbookDir]
      : [...(parent ? [dirname(parent)] : []), join(this.playbookDir, 'roles'), ...(checker.options.rolesPath ?? []), this.playbookDir];
    const candidates = [...new Set(bases.map((b) => (b ? join(b, name) : name)))];
    const found = candidates.find(isDirectory);
    if (!found) {
      const near = closest(basename(name), this.knownRoles(checker), 1);
      checker.error(at, `role "${name}" not found${near.length ? ` (did you mean "${near[0]}"?)` : ''}; looked in ${candidates.join(', ')}`);
    }
    return found;
  }

  private knownRoles(checker: Checker): string[] {
    const names: string[] = [];
    for (const base of [join(this.playbookDir, 'roles'), ...(checker.options.rolesPath ?? [])]) {
      try {
        for (const entry of readdirSync(base)) if (isDirectory(join(base, entry))) names.push(entry);
      } catch {
        // a search directory that does not exist has no roles
      }
    }
    return names;
  }

  private roleFile(dir: string, part: string, from: string | undefined): string | undefined {
    const names = from ? [from, `${from}.yml`, `${from}.yaml`] : TASK_FILES;
    return names.map((n) => join(dir, part, n)).find(isFile);
  }

  /** defaults, vars and meta of a role directory, each read once per play. */
  private roleFilesOf(checker: Checker, dir: string, name: string, from: Partial<Record<string, string>>): RoleFiles | undefined {
    const key = `${dir}\0${from.vars ?? ''}\0${from.defaults ?? ''}`;
    if (this.roleFiles.has(key)) return this.roleFiles.get(key);
    const files: RoleFiles = { name, dir, defaults: {}, vars: {}, positions: new Map(), allowDuplicates: false, dependencies: [], ok: true };
    for (const part of ['defaults', 'vars'] as const) {
      const file = this.roleFile(dir, part, from[part]);
      if (!file) continue;
      const loaded = this.varsOf(checker, file, files.positions);
      if (loaded) Object.assign(files[part], loaded);
      else files.ok = false;
    }
    const meta = this.roleFile(dir, 'meta', undefined);
    if (meta) files.ok = this.meta(checker, meta, files) && files.ok;
    this.roleFiles.set(key, files);
    return files;
  }

  private varsOf(checker: Checker, file: string, positions: Map<string, SourcePos>): Record<string, unknown> | undefined {
    const before = checker.diags.items.length;
    const src = readYaml(file, checker.diags, 'vars file');
    if (!src) {
      const last = checker.diags.items.at(-1);
      if (checker.diags.items.length === before + 1 && last?.message === 'vars file is empty') {
        checker.diags.items.pop();
        return {};
      }
      return undefined;
    }
    const c = checker.forFile(src);
    if (!isRecord(src.value)) {
      checker.diags.error(posOf(src, c.root), `expected a mapping of variables, found ${describeValue(src.value)}`);
      return undefined;
    }
    return c.variables(src.value, [], positions, src, c.root) ? src.value : undefined;
  }

  private meta(checker: Checker, file: string, files: RoleFiles): boolean {
    const before = checker.diags.items.length;
    const src: YamlSource | undefined = readYaml(file, checker.diags, 'role meta file');
    if (!src) {
      const empty = checker.diags.items.length === before + 1 && checker.diags.items.at(-1)?.message === 'role meta file is empty';
      if (empty) checker.diags.items.pop();
      return empty;
    }
    const c = checker.forFile(src);
    if (!isRecord(src.value)) {
      checker.diags.error(posOf(src, c.root), `expected a mapping (dependencies:, allow_duplicates:, galaxy_info:), found ${describeValue(src.value)}`);
      return false;
    }
    let ok = true;
    const { dependencies, allow_duplicates } = src.value;
    if (allow_duplicates !== undefined) {
      if (typeof allow_duplicates === 'boolean') files.allowDuplicates = allow_duplicates;
      else {
        ok = false;
        c.error(['allow_duplicates'], `allow_duplicates must be true or false, found ${describeValue(allow_duplicates)}`);
      }
    }
    if (dependencies !== undefined && dependencies !== null) {
      if (!Array.isArray(dependencies)) {
        ok = false;
        c.error(['dependencies'], `dependencies must be a list of roles, found ${describeValue(dependencies)}`);
      } else dependencies.forEach((value, i) => files.dependencies.push({ value, path: ['dependencies', i], checker: c }));
    }
    return ok;
  }
}

/** What a task's enclosing blocks give it: a keyword the task writes itself wins. */
function inheritFromBlocks(task: Task, b: BlockInherited): void {
  task.blocks = [...b.frames, ...(task.blocks ?? [])];
  if (!task.meta) task.notify = [...new Set([...b.notify, ...task.notify])];
  const meta = metaOfTask(task);
  const written = meta ? valueAt(meta.src.value, meta.path) : undefined;
  if (b.ignore_errors !== undefined && !(written && typeof written === 'object' && 'ignore_errors' in written)) task.ignore_errors = b.ignore_errors;
  task.run_once ??= b.run_once;
  if (!task.meta) task.delegate_to ??= b.delegate_to;
  task.any_errors_fatal ??= b.any_errors_fatal;
  task.ignore_unreachable ??= b.ignore_unreachable;
  for (const key of ['run_once', 'delegate_to', 'any_errors_fatal', 'ignore_unreachable'] as const) if (task[key] === undefined) delete task[key];
}

/** Check every `notify` of the raw task lists read from other files against the play's handler names. */
export function unknownNotifies(sites: PlayExpander['notifySites'], handlerNames: ReadonlySet<string>): boolean {
  let ok = true;
  for (const { checker, list, path } of sites) if (!checker.notifiesIn(list, path, handlerNames)) ok = false;
  return ok;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDirectory(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

/** `ansible.builtin.include_tasks:` and friends are the same includes under their FQCN. */
function shortIncludeKeys(entry: Record<string, unknown>): Record<string, unknown> {
  const fqcn = Object.keys(entry).find((k) => /^ansible\.(builtin|legacy)\.(import|include)_(tasks|role)$/.test(k));
  if (!fqcn) return entry;
  const { [fqcn]: value, ...rest } = entry;
  return { ...rest, [fqcn.split('.')[2]]: value };
}
