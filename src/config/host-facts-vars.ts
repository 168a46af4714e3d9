/**
 * How gathered facts become variables, as Ansible injects them: the whole set
 * as `ansible_facts` (names without the prefix) and each fact as
 * `ansible_<name>`, at Ansible's "host facts" precedence — over inventory and
 * role defaults, under play vars, role vars, secrets and -e. A fact is host
 * data: it is set as a final value and never rendered, so a hostname of
 * `{{ lookup(...) }}` stays that text.
 */
import type { VarScope } from '../template/render.js';
import type { Play, ScopedVars } from './model.js';
import type { Project } from './project.js';

/** The variables each fact is visible as. */
export function factVariables(facts: Record<string, unknown>): Record<string, unknown> {
  const vars: Record<string, unknown> = { ansible_facts: facts };
  for (const [name, value] of Object.entries(facts)) vars[`ansible_${name}`] = value;
  return vars;
}

/** Names defined above facts in Ansible's precedence: a fact does not override them. */
export function factShadows(project: Project, play: Play, scoped?: ScopedVars): Set<string> {
  return new Set([
    ...Object.keys(play.vars),
    ...Object.keys(scoped?.vars ?? {}),
    ...Object.keys(play.secrets),
    ...Object.keys(project.secretValuesFromFile),
    ...Object.keys(project.extraVars),
  ]);
}

export function injectFacts(scope: VarScope, raw: Record<string, unknown>, facts: Record<string, unknown>, shadows: ReadonlySet<string>): void {
  for (const [name, value] of Object.entries(factVariables(facts))) {
    if (shadows.has(name)) continue;
    scope.setResolved(name, value);
    Object.defineProperty(raw, name, { value, enumerable: true, writable: true, configurable: true });
  }
}
