/**
 * The variables one host sees in one play, by precedence (lowest first):
 * role defaults < inventory `all` < groups, parent before child < host < play
 * vars (and vars_files) < role vars < include_vars < role parameters < include
 * parameters < play secrets < --secrets file < -e (role, include and
 * include_vars layers only for the tasks they scope: `taskScope`). Plus `inventory_hostname`,
 * `group_names`, `groups` and `env`. Secret values are rendered eagerly and
 * added to the redactor, so nothing printed afterwards can contain them.
 */
import type { Play, ScopedVars, Task } from './model.js';
import type { InventoryHost } from '../inventory/model.js';
import type { SourcePos } from '../source/pos.js';
import type { Project } from './project.js';
import { metaOfPlay } from './playbook.js';
import { MIN_SECRET_LENGTH, Redactor, shortSecretMessage } from '../redactor.js';
import { VarScope } from '../template/render.js';
import { TemplateError } from '../template/errors.js';
import { makeEnv, toText } from '../template/evaluate.js';
import { factShadows, injectFacts } from './host-facts-vars.js';
import { dirname, isAbsolute, join } from 'node:path';
import { READ_LIMITS, readLimited } from '../local-file.js';
import { findLocal } from './template-files.js';
import type { FileHost } from '../template/evaluate.js';

/**
 * lookup('file'|'template') in task arguments: a relative name is found as Ansible's lookups find
 * it, in the playbook's files/ (or templates/) directory, then beside the playbook.
 */
function playbookFiles(project: Project): FileHost {
  const dir = dirname(project.playbook.file);
  return {
    read(kind, path) {
      const found = findLocal(path, { module: kind === 'template' ? 'template' : 'copy', searchDirs: [dir] });
      const full = isAbsolute(found) ? found : join(dir, found);
      try {
        return { path: full, text: readLimited(full, { limit: READ_LIMITS.localSource, what: 'local file' }).toString('utf8') };
      } catch (err) {
        throw new TemplateError(`lookup('${kind}', '${path}'): ${(err as Error).message}`);
      }
    },
  };
}

export interface HostScope {
  host: InventoryHost;
  /** Merged variables, un-rendered (templates resolve lazily through render()). Secrets hold their final values. */
  vars: Record<string, unknown>;
  redactor: Redactor;
  /** Names of the variables that hold secrets (play `secrets:`, --secrets FILE). */
  secretNames: ReadonlySet<string>;
  /** Deep-render strings in objects and arrays; returns plain values. Throws TemplateError. */
  render(value: unknown, pos?: SourcePos): unknown;
  /** Evaluate a `when:` style condition. */
  condition(expr: string | boolean, pos?: SourcePos): boolean;
  /** The scope itself, for renderString/evaluateCondition. */
  scope: VarScope;
}

export interface HostScopeOptions {
  /**
   * Called when a secret cannot be rendered (e.g. its environment variable is
   * unset). Return a stand-in value to go on (validate warns), or throw.
   * Without it the error is thrown, naming the secret and the variable.
   */
  onSecretError?: (name: string, error: TemplateError) => string;
  /** Ansible facts of the host (names without `ansible_`), as gathered: see src/config/host-facts-vars.ts. */
  facts?: Record<string, unknown>;
  /** Whether --tags/--skip-tags select a task with these tags (an include_vars deselected does not load); absent: every one. */
  selected?: (tags: string[]) => boolean;
}

/** The un-rendered variables of one host in one play, with a task's scoped layers (when it has them) in their places. */
function layered(project: Project, play: Play, host: InventoryHost, scoped?: ScopedVars, included?: Record<string, unknown>): Record<string, unknown> {
  return {
    ...scoped?.defaults,
    ...host.vars,
    ...play.vars,
    ...scoped?.vars,
    ...included,
    ...scoped?.params,
    ...play.secrets,
    ...project.secretValuesFromFile,
    ...project.extraVars,
    inventory_hostname: host.name,
    group_names: host.groups.filter((g) => g !== 'all'),
    groups: Object.fromEntries(project.inventory.groups),
  };
}

/** How to build the same host's scope again with facts (issue 13). */
const rebuilders = new WeakMap<HostScope, (facts: Record<string, unknown>) => HostScope>();

/** The host's play scope again, with `facts` (Ansible's names without the prefix) as Ansible injects them. */
export function withFacts(scope: HostScope, facts: Record<string, unknown>): HostScope {
  const rebuild = rebuilders.get(scope);
  if (!rebuild) throw new Error('withFacts needs a scope made by hostScope');
  return rebuild(facts);
}

/**
 * How to layer run-time values (registered results, set_fact, loop variables: issue 13) over a
 * scope: over everything but -e, which Ansible puts above them. Values are final, never rendered
 * again (a command's stdout may hold "{{").
 */
const layers = new WeakMap<HostScope, (values: Record<string, unknown>, secret: ReadonlySet<string>) => HostScope>();

/** `scope` with run-time values on top; `secret` names those of them computed from a secret. */
export function withValues(scope: HostScope, values: Record<string, unknown>, secret: ReadonlySet<string> = new Set()): HostScope {
  const layer = layers.get(scope);
  if (!layer) throw new Error('withValues: not a scope made by hostScope/taskScope');
  return layer(values, secret);
}

/** How to build the scope of a task with scoped variables from a host's play scope; one per scope, each built once. */
const derived = new WeakMap<HostScope, { build: (scoped: ScopedVars) => HostScope; cache: WeakMap<ScopedVars, HostScope> }>();

/**
 * The scope one task renders in: the host's play scope, or (for a task of a
 * role or an include with variables) one that layers them in. It shares the
 * play scope's redactor and secrets: secret values are the same for every task.
 */
export function taskScope(scope: HostScope, task: Pick<Task, 'scoped'>): HostScope {
  const d = derived.get(scope);
  if (!task.scoped || !d) return scope;
  let s = d.cache.get(task.scoped);
  if (!s) d.cache.set(task.scoped, (s = d.build(task.scoped)));
  return s;
}

/** One frozen copy of the environment per run (project), not one per host scope. */
const runEnvs = new WeakMap<Project, { from: NodeJS.ProcessEnv; env: NodeJS.ProcessEnv }>();
function runEnv(project: Project, from: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  let made = runEnvs.get(project);
  if (made?.from !== from) {
    made = { from, env: makeEnv(from) };
    runEnvs.set(project, made);
  }
  return made.env;
}

export function hostScope(project: Project, play: Play, host: InventoryHost, processEnv: NodeJS.ProcessEnv = process.env, options: HostScopeOptions = {}): HostScope {
  const env = runEnv(project, processEnv);
  const raw = layered(project, play, host);
  const meta = metaOfPlay(play);
  const positions = new Map<string, SourcePos>([...(meta?.varPositions ?? []), ...(meta?.secretPositions ?? [])]);
  const files = playbookFiles(project);
  // One copy of the environment for the host's scope and every layer over it (loop items, results).
  const madeEnv = makeEnv(env);
  const scope = new VarScope(raw, { env: madeEnv, positions, files });
  // Issue 13 facts: host data, set as final values (never rendered as templates), under play vars.
  if (options.facts) injectFacts(scope, raw, options.facts, factShadows(project, play));
  const redactor = new Redactor();
  for (const [name, v] of Object.entries(project.secretValuesFromFile)) redactor.add(v, `secret "${name}"`);
  for (const v of project.vaultValues) redactor.add(v, 'a vault value');

  const secretNames = new Set([...Object.keys(play.secrets), ...Object.keys(project.secretValuesFromFile), ...vaultVariables(raw, project.vaultValues)]);
  // A --secrets FILE value is the secret itself, never a template: "{{" in a password is just text.
  for (const [name, v] of Object.entries(project.secretValuesFromFile)) if (!Object.hasOwn(project.extraVars, name)) scope.setResolved(name, v);
  for (const name of secretNames) {
    let value: string;
    try {
      value = toText(scope.lookup(name));
      if (value.length < MIN_SECRET_LENGTH) throw new TemplateError(shortSecretMessage('its value'));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      const named = new TemplateError(`secret "${name}": ${err.detail}`, err.pos ?? meta?.secretPositions.get(name));
      if (!options.onSecretError) throw named;
      value = options.onSecretError(name, named);
    }
    scope.setResolved(name, value);
    raw[name] = value;
    redactor.add(value, `secret "${name}"`);
    redactor.addLines(value);
  }

  const result = wrap(host, raw, redactor, secretNames, scope);
  rebuilders.set(result, (facts) => hostScope(project, play, host, processEnv, { ...options, facts }));
  const positionsWith = (scoped?: ScopedVars) => new Map([...(meta?.varPositions ?? []), ...(scoped?.positions ?? []), ...(meta?.secretPositions ?? [])]);
  const layerOver =
    (base: Record<string, unknown>, scoped?: ScopedVars, baseSecret: ReadonlySet<string> = secretNames) =>
    (values: Record<string, unknown>, secret: ReadonlySet<string>): HostScope => {
      const own = Object.fromEntries(Object.entries(values).filter(([k]) => !Object.hasOwn(project.extraVars, k) && !secretNames.has(k)));
      const vars = { ...base, ...own };
      const inner = new VarScope(vars, { env: madeEnv, positions: positionsWith(scoped), files });
      // Secret values (the play's, and vault values a role or include_vars brought) are final, never rendered.
      for (const name of baseSecret) if (Object.hasOwn(base, name)) inner.setResolved(name, base[name]);
      for (const [k, v] of Object.entries(own)) inner.setResolved(k, v);
      const names = new Set([...baseSecret, ...[...secret].filter((k) => Object.hasOwn(own, k))]);
      const layered = wrap(host, vars, redactor, names, inner);
      // A layer over a layer (a loop item over registered values, a result over both).
      layers.set(layered, layerOver(vars, scoped, names));
      return layered;
    };
  layers.set(result, layerOver(raw));
  derived.set(result, {
    cache: new WeakMap(),
    build: (scoped) => {
      const included = includedFor(result, scoped, options.selected);
      const vars = layered(project, play, host, scoped, included.vars);
      // A scoped name shadows the play's position for it; secrets keep theirs (they win over scoped vars).
      const inner = new VarScope(vars, {
        env: madeEnv,
        files,
        positions: new Map([...(meta?.varPositions ?? []), ...included.positions, ...scoped.positions, ...(meta?.secretPositions ?? [])]),
      });
      // include_vars sits above host facts too: a fact never overrides what it loaded.
      if (options.facts) injectFacts(inner, vars, options.facts, new Set([...factShadows(project, play, scoped), ...Object.keys(included.vars)]));
      for (const name of secretNames) {
        inner.setResolved(name, raw[name]);
        vars[name] = raw[name];
      }
      // A role's or an include_vars file's variable holding a vault value is a secret variable for the tasks it scopes.
      const scopedSecrets = vaultVariables(vars, project.vaultValues).filter((n) => !secretNames.has(n) && typeof vars[n] !== 'object');
      for (const name of scopedSecrets) inner.setResolved(name, vars[name]);
      const names = scopedSecrets.length ? new Set([...secretNames, ...scopedSecrets]) : secretNames;
      const derivedScope = wrap(host, vars, redactor, names, inner);
      layers.set(derivedScope, layerOver(vars, scoped, names));
      return derivedScope;
    },
  });
  return result;
}

/**
 * The variables of the include_vars tasks that ran before a task on this host: each
 * one --tags selects and whose `when` holds there, evaluated in the scope that
 * include_vars task itself had (so an earlier include_vars can decide a later one).
 */
function includedFor(playScope: HostScope, scoped: ScopedVars, selected?: (tags: string[]) => boolean): { vars: Record<string, unknown>; positions: Map<string, SourcePos> } {
  const vars: Record<string, unknown> = {};
  const positions = new Map<string, SourcePos>();
  for (const step of scoped.included ?? []) {
    if (selected && !selected(step.tags)) continue;
    if (step.when !== undefined) {
      const at = step.at ? taskScope(playScope, { scoped: step.at }) : playScope;
      let holds: boolean;
      try {
        holds = at.condition(step.when, step.whenPos);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        throw new TemplateError(`the when of include_vars: ${err.detail}`, err.pos ?? step.whenPos);
      }
      if (!holds) continue;
    }
    Object.assign(vars, step.vars);
    for (const [k, p] of step.positions) positions.set(k, p);
  }
  return { vars, positions };
}

function wrap(host: InventoryHost, vars: Record<string, unknown>, redactor: Redactor, secretNames: ReadonlySet<string>, scope: VarScope): HostScope {
  return {
    host,
    vars,
    redactor,
    secretNames,
    scope,
    render: (value, pos) => scope.render(value, pos),
    condition: (expr, pos) => scope.condition(expr, pos),
  };
}

const MAGIC = new Set(['inventory_hostname', 'group_names', 'groups']);

/**
 * The variables that hold a value decrypted from Ansible Vault (anywhere inside
 * them): they are secret variables, so whatever is computed from them is secret too.
 */
function vaultVariables(raw: Record<string, unknown>, decrypted: ReadonlySet<string>): string[] {
  if (!decrypted.size) return [];
  const holds = (v: unknown): boolean => {
    if (typeof v === 'string' || typeof v === 'number') return decrypted.has(String(v));
    if (Array.isArray(v)) return v.some(holds);
    if (v !== null && typeof v === 'object') return Object.values(v).some(holds);
    return false;
  };
  return Object.keys(raw).filter((name) => !MAGIC.has(name) && holds(raw[name]));
}
