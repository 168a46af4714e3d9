/**
 * Whether a play reads host facts, found statically: plumb gathers facts only
 * for a play that reads them (Ansible gathers for every play unless told not
 * to; skipping an unread gather is only observable in time). Every string the
 * play's tasks can render is scanned — arguments, names, conditions, the
 * play's and roles' variables, the host's inventory variables and the
 * template files the play uses — for `ansible_facts` or an `ansible_` name
 * that is not a connection or magic variable. A false positive only costs a
 * gather; a miss is impossible for these sources (a name built at run time,
 * `vars['ansible_' + x]`, is not seen: Ansible's own `hostvars` is out of scope).
 */
import type { Play, Task } from './model.js';

/** Ansible's connection variables and magic variables: not facts. */
const NOT_FACTS =
  /^ansible_(host|port|user|password|connection|ssh_.*|become.*|private_key_file|.*_interpreter|shell_.*|pipelining|timeout|check_mode|diff_mode|play_.*|forks|inventory_sources|limit|run_tags|skip_tags|verbosity|version|loop|loop_var|index_var|parent_role_.*|role_.*|collection_name|search_path|config_file|playbook_python|dependent_role_names|local|facts_.*|module_.*)$/;

const NAME = /\bansible_[A-Za-z0-9_]+/g;

/** The fact names a text reads (`ansible_facts` itself included). */
export function factNamesIn(text: string): string[] {
  return [...new Set(text.match(NAME) ?? [])].filter((n) => !NOT_FACTS.test(n));
}

function strings(value: unknown, out: string[]): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) strings([k, v], out);
  return out;
}

/** The fact names one task reads: its arguments, conditions, name and its template file's text. */
export function taskReads(task: Task, templateText?: string): string[] {
  const texts = strings([task.args, task.when, task.name, task.changed_when], []);
  if (templateText !== undefined) texts.push(templateText);
  return [...new Set(texts.flatMap(factNamesIn))];
}

/** Modules that set facts: a play that runs one takes the facts path even if it gathers nothing. */
export const FACT_MODULES = ['setup', 'service_facts', 'package_facts'];

/**
 * Tasks after a service_facts or package_facts task that read what it sets: which services and
 * packages a host has is only known there, so `validate` (which renders with stand-in facts) does
 * not render them; plan and apply do, with the host's values.
 */
export function hostListReaders(play: Play): Set<Task> {
  const out = new Set<Task>();
  let listed = false;
  for (const task of [...play.tasks, ...play.handlers]) {
    if (task.module === 'service_facts' || task.module === 'package_facts') listed = true;
    else if (listed && taskReads(task).some((n) => /^ansible_(facts|services|packages)$/.test(n))) out.add(task);
  }
  return out;
}

export interface FactUsage {
  /** Fact names the play reads, sorted (`ansible_facts` when it reads the dictionary). */
  names: string[];
  /** Whether facts are gathered at the start of the play: read, and `gather_facts` is not false. */
  gather: boolean;
  /** Whether any task sets facts (setup, service_facts, package_facts). */
  factModules: boolean;
}

/** One play's fact reads without the host's variables: computed once per play. */
const perPlay = new WeakMap<Play, Set<string>>();

function playReads(play: Play, templateText: (task: Task) => string | undefined): Set<string> {
  let names = perPlay.get(play);
  if (names) return names;
  const texts: string[] = [];
  strings([play.vars, play.secrets, play.name], texts);
  const scopes = new Set<object>();
  for (const task of [...play.tasks, ...play.handlers]) {
    strings([task.args, task.when, task.name, task.changed_when], texts);
    if (task.scoped && !scopes.has(task.scoped)) {
      scopes.add(task.scoped);
      strings([task.scoped.defaults, task.scoped.vars], texts);
    }
    const text = templateText(task);
    if (text !== undefined) texts.push(text);
  }
  names = new Set(texts.flatMap(factNamesIn));
  perPlay.set(play, names);
  return names;
}

/**
 * What `play` reads of facts on a host with `hostVars`. `templateText` gives the
 * text of a task's template file (undefined when it is not a template task or
 * the file cannot be read: then the task fails later anyway).
 */
export function factUsage(play: Play, hostVars: Record<string, unknown>, templateText: (task: Task) => string | undefined): FactUsage {
  const names = new Set(playReads(play, templateText));
  for (const n of strings(hostVars, []).flatMap(factNamesIn)) names.add(n);
  return {
    names: [...names].sort(),
    gather: play.gather_facts !== false && names.size > 0,
    factModules: [...play.tasks, ...play.handlers].some((t) => FACT_MODULES.includes(t.module)),
  };
}
