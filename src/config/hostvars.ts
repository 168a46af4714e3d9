/**
 * The variables one host sees in one play, by precedence (lowest first):
 * inventory `all` < groups, parent before child < host < play vars (and
 * vars_files) < play secrets < --secrets file < -e. Plus `inventory_hostname`,
 * `group_names`, `groups` and `env`. Secret values are rendered eagerly and
 * added to the redactor, so nothing printed afterwards can contain them.
 */
import type { Play } from './model.js';
import type { InventoryHost } from '../inventory/model.js';
import type { SourcePos } from '../source/pos.js';
import type { Project } from './project.js';
import { metaOfPlay } from './playbook.js';
import { MIN_SECRET_LENGTH, Redactor, shortSecretMessage } from '../redactor.js';
import { VarScope } from '../template/render.js';
import { TemplateError } from '../template/errors.js';
import { toText } from '../template/evaluate.js';

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
}

export function hostScope(project: Project, play: Play, host: InventoryHost, env: NodeJS.ProcessEnv = process.env, options: HostScopeOptions = {}): HostScope {
  const raw: Record<string, unknown> = {
    ...host.vars,
    ...play.vars,
    ...play.secrets,
    ...project.secretValuesFromFile,
    ...project.extraVars,
    inventory_hostname: host.name,
    group_names: host.groups.filter((g) => g !== 'all'),
    groups: Object.fromEntries(project.inventory.groups),
  };
  const meta = metaOfPlay(play);
  const positions = new Map<string, SourcePos>([...(meta?.varPositions ?? []), ...(meta?.secretPositions ?? [])]);
  const scope = new VarScope(raw, { env, positions });
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

  return {
    host,
    vars: raw,
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
