/**
 * validate's second pass: resolve every play's hosts and render every task for
 * every host, offline, so an undefined variable or a value that only becomes
 * wrong once rendered is found before any host is contacted. Secrets whose
 * environment variable is unset are warnings here (plan/apply fail on them).
 */
import { dirname } from 'node:path';
import type { Node } from 'yaml';
import { argSchemas, type ModuleName } from '../modules/args.js';
import { TemplateError } from '../template/errors.js';
import { isTemplate } from '../template/expr.js';
import { Redactor } from '../redactor.js';
import { renderHidden } from './secrecy.js';
import { DiagnosticList, headline, type Diagnostic } from '../source/diagnostics.js';
import { hostScope, taskScope, withFacts, withValues } from './hostvars.js';
import { standInFacts } from '../modules/index.js';
import { runtimeNames } from './dynamic-keys.js';
import { FACT_MODULES, hostListReaders } from './fact-usage.js';
import type { Task } from './model.js';
import { metaOfPlay, metaOfTask } from './playbook.js';
import { checkRenderedArgs } from './rendered.js';
import { checkTemplateTask } from './template-files.js';
import type { Project } from './project.js';
import { formatPath, locate, valuePos, type PathPart } from '../source/yaml.js';

export interface RenderCheck {
  diagnostics: Diagnostic[];
  /** Every secret value seen while rendering: redact all output with it. */
  redactor: Redactor;
  /** play index → matched host names */
  hosts: string[][];
}

export function checkRendering(project: Project, hostsOf: (playIndex: number) => string[], env: NodeJS.ProcessEnv = process.env): RenderCheck {
  const diags = new DiagnosticList();
  const redactor = new Redactor();
  for (const v of Object.values(project.secretValuesFromFile)) redactor.add(v);
  for (const v of project.vaultValues) redactor.add(v);
  const seen = new Set<string>();
  const add = (d: Diagnostic) => {
    // The same problem on many hosts is reported once (for the first host).
    const key = headline(d).replace(/ for host \S+:/, ':');
    if (!seen.has(key)) {
      seen.add(key);
      diags.add(d);
    }
  };
  const hosts: string[][] = [];
  project.playbook.plays.forEach((play, pi) => {
    const names = hostsOf(pi);
    hosts.push(names);
    if (names.length === 0) {
      const at = metaOfPlay(play)?.hostsPos ?? play.pos;
      add({
        severity: 'warning',
        file: at.file,
        line: at.line,
        column: at.column,
        path: `plays[${pi}].hosts`,
        message: `"${play.hosts}" matches no host; the play will do nothing`,
      });
    }
    for (const name of names) {
      const host = project.inventory.hosts.get(name)!;
      const scope = hostScope(project, play, host, env, {
        onSecretError: (secret, err) => {
          const pos = err.pos ?? play.pos;
          // An unset environment variable is normal on a reviewer's machine; anything else is a real error.
          const unset = /environment variable \S+ is not set/.test(err.detail);
          add({
            severity: unset ? 'warning' : 'error',
            file: pos.file,
            line: pos.line,
            column: pos.column,
            message: unset ? `${err.detail}; plan and apply will fail until it is set` : err.detail,
          });
          return `<secret ${secret}>`;
        },
      });
      // Issue 13: a play that gathers facts renders with stand-ins here (the real ones are only known on the host).
      const setsFacts = [...play.tasks, ...play.handlers].some((t) => FACT_MODULES.includes(t.module));
      const factScope = play.gather_facts === false && !setsFacts ? scope : withFacts(scope, standInFacts(0));
      const runtime = runtimeNames(play.tasks);
      // Tasks reading what service_facts/package_facts list are judged at plan time (only the host knows it).
      const hostLists = hostListReaders(play);
      for (const task of [...play.tasks, ...play.handlers]) if (!hostLists.has(task)) checkTask(task, factScope, name, add, runtime);
      // Issue 14: a template task's file is read and checked too (syntax, missing src, provably undefined names).
      for (const task of [...play.tasks, ...play.handlers]) if (task.module === 'template') checkTemplateSource(project, task, factScope, add);
      // After the tasks: values they computed from secrets are secret too.
      redactor.merge(scope.redactor);
    }
  });
  return { diagnostics: diags.sorted(), redactor, hosts };
}

function checkTask(task: Task, playScope: ReturnType<typeof hostScope>, host: string, add: (d: Diagnostic) => void, runtime: ReadonlySet<string>): void {
  const meta = metaOfTask(task);
  if (!meta) return;
  let scoped: ReturnType<typeof hostScope>;
  try {
    scoped = taskScope(playScope, task);
  } catch (err) {
    // An include_vars before the task whose `when` cannot be decided on this host: reported at that when.
    if (!(err instanceof TemplateError)) throw err;
    const pos = err.pos ?? task.pos;
    add({ severity: 'error', file: pos.file, line: pos.line, column: pos.column, message: err.detail });
    return;
  }
  // Issue 13: values set while the play runs stand in as empty mappings; what reads them is judged at plan time.
  const scope = runtime.size ? withValues(scoped, Object.fromEntries([...runtime].map((n) => [n, {}]))) : scoped;
  const readsRuntime = (fn: () => unknown): boolean => {
    if (!runtime.size) return false;
    const { reads } = scope.scope.track(() => {
      try {
        fn();
      } catch {
        // judged below, when it reads nothing set at run time
      }
    });
    return [...reads].some((r) => runtime.has(r));
  };
  const root = meta.src.doc.contents as Node;
  const error = (path: PathPart[], message: string) => {
    const pos = valuePos(meta.src, root, path);
    add({ severity: 'error', file: pos.file, line: pos.line, column: pos.column, length: pos.length, path: formatPath([...meta.root, ...path]), message });
  };
  let renderedOk = true;
  let runtimeRead = false;
  // Paths are the argument's (plumb's names); where it was written comes from the task's meta.
  const walk = (value: unknown, path: PathPart[], at: (p: PathPart[]) => PathPart[]): void => {
    if (typeof value === 'string') {
      if (!isTemplate(value)) return;
      if (readsRuntime(() => scope.render(value))) {
        runtimeRead = true;
        return;
      }
      try {
        const unhidden = renderHidden(scope, value);
        if (unhidden) {
          renderedOk = false;
          error(at(path), unhidden);
        }
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        renderedOk = false;
        error(at(path), err.detail);
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i], at));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k], at);
  };
  const plumbModule = Object.hasOwn(argSchemas, task.module);
  // An Ansible module plumb lacks: its arguments are never used, only whether it runs matters.
  if (plumbModule) walk(task.args, [], meta.argPath);
  // Only a name the author wrote: a default name quotes the arguments, already checked.
  if (locate(root, [...meta.path, 'name']).exact) walk(task.name, [...meta.path, 'name'], (p) => p);
  if (task.when !== undefined && !readsRuntime(() => scope.condition(task.when!))) {
    try {
      scope.condition(task.when);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      error([...meta.path, 'when'], err.detail);
    }
  }
  if (!renderedOk || !plumbModule || runtimeRead) return;
  // Values that were templates are only checkable now that they are rendered: by the rule a literal passes.
  const { value: rendered, leaves } = scope.scope.renderLeaves(task.args);
  const checked = checkRenderedArgs(task.module, argSchemas[task.module as ModuleName], rendered, leaves, {
    secretNames: scope.secretNames,
    redact: (t) => scope.redactor.redact(t),
  });
  if (checked.ok) return;
  for (const issue of checked.issues) {
    error(meta.argPath(issue.path), `once rendered for host ${host}: task "${task.name}": ${issue.message}`);
  }
}

/** Every word written in the project's YAML: a name there may be defined by a task at run time (register, set_fact, loop_var). */
const writtenWords = new WeakMap<Project, Set<string>>();

function checkTemplateSource(project: Project, task: Task, playScope: ReturnType<typeof hostScope>, add: (d: Diagnostic) => void): void {
  const meta = metaOfTask(task);
  if (!meta) return;
  const scope = taskScope(playScope, task);
  let words = writtenWords.get(project);
  if (!words) writtenWords.set(project, (words = new Set([...project.sources.values()].flatMap((t) => t.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []))));
  const written = words;
  const names = new Set(scope.scope.names());
  const pos = valuePos(meta.src, meta.src.doc.contents as Node, meta.argPath(['src']));
  const problems = checkTemplateTask(task, {
    baseDir: dirname(project.playbook.file),
    srcPos: pos,
    known: (n) => names.has(n),
    written: (n) => written.has(n),
    sources: project.sources,
  });
  for (const p of problems)
    add({
      severity: 'error',
      file: p.file,
      line: p.line,
      column: p.column,
      message: p.message,
      path: p.file === pos.file ? formatPath([...meta.root, ...meta.argPath(['src'])]) : undefined,
    });
}
