/**
 * The validated, position-annotated playbook model that flows
 * load → validate → plan → apply. Values here are still un-rendered templates
 * (strings may contain `{{ }}`); rendering happens per host in the engine.
 */

import type { SourcePos } from '../source/pos.js';

export interface Task {
  /** Display name: `name`, or `<module>` when none was given. */
  name: string;
  module: string;
  /** Raw module arguments (validated against the module schema, un-rendered). */
  args: unknown;
  notify: string[];
  /** A handler's `listen` topics: a notify of any of them reaches it too. */
  listen?: string[];
  tags: string[];
  when?: string;
  become?: boolean;
  become_user?: string;
  ignore_errors: boolean;
  changed_when?: string | boolean;
  pos: SourcePos;
  // Issue 13, the run-time half of the language (src/config/dynamic-keys.ts checks them; src/engine/dynamic.ts runs them).
  /** `loop`/`with_*` with `loop_control`: the task runs once per item. */
  loop?: LoopSpec;
  /** The variable the task's result is stored in. */
  register?: string;
  /** A list is joined with `and`, as Ansible does. */
  failed_when?: string | boolean;
  /** Apply only: run again (at most `retries` times, `delay` seconds apart) until this holds. */
  until?: string;
  retries?: number;
  delay?: number;
  /** `check_mode: false` on a command/shell: the author says it may run at plan time. */
  check_mode?: boolean;
  /** Variables the task sees besides the host's and the play's: its role's, its include's. */
  scoped?: ScopedVars;
  /** The role the task comes from (listed as "role : task", as Ansible does). */
  role?: string;
  /**
   * Directories a relative `src` is looked up in, first match wins (a role's own
   * directory, then the including file's, then the playbook's); each is tried
   * with `templates/` or `files/` first. Absent: relative to the playbook only.
   */
  searchDirs?: string[];
  // --- blocks, meta, run_once, delegation (src/config/blocks.ts) ---
  /** The blocks the task is inside, outermost first, and which part of each. */
  blocks?: BlockFrame[];
  /** The play section it belongs to; handlers flush after each (absent: roles and tasks). */
  phase?: 'pre_tasks' | 'post_tasks';
  /** `meta:` tasks: what they do instead of a module. */
  meta?: MetaAction;
  run_once?: boolean;
  /** Only the control machine for now: the task runs there, through the local connection. */
  delegate_to?: 'localhost';
  any_errors_fatal?: boolean;
  ignore_unreachable?: boolean;
}

export type MetaAction = 'flush_handlers' | 'end_host' | 'end_play' | 'noop';

/** One `block:` of a task list; its tasks carry it in `Task.blocks`. */
export interface Block {
  /** Unique within the play. */
  id: number;
  name?: string;
  pos: SourcePos;
  hasRescue: boolean;
}

export interface BlockFrame {
  block: Block;
  section: 'block' | 'rescue' | 'always';
}

export type LoopForm =
  | 'loop'
  | 'with_items'
  | 'with_list'
  | 'with_dict'
  | 'with_together'
  | 'with_subelements'
  | 'with_fileglob'
  | 'with_first_found'
  | 'with_sequence'
  | 'with_nested'
  | 'with_indexed_items';

export interface LoopSpec {
  form: LoopForm;
  /** As written (a list, or a template that renders to one), rendered per host. */
  value: unknown;
  loop_var: string;
  index_var?: string;
  /** Template of what plans and results show for an item. */
  label?: string;
  /** Seconds between items at apply. */
  pause?: number;
  /** Where `with_fileglob`/`with_first_found` look on the controller (the file's directory; a role's files/ first). */
  dirs: string[];
}

/**
 * Variables layered around the host's and the play's (Ansible's precedence):
 * `defaults` (role defaults) under the inventory, `vars` (role vars) over the
 * play's vars, then `included` (include_vars run before the task), then
 * `params` (role parameters, then include parameters), all under secrets and
 * -e. One object is shared by every task of a role or include, so a host's
 * derived scope is built once per object.
 */
export interface ScopedVars {
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  params?: Record<string, unknown>;
  /** The include_vars tasks run before this task in the play, in order: each applies on a host where its `when` holds and --tags selects it. */
  included?: readonly IncludedVars[];
  positions: Map<string, SourcePos>;
}

/** What one include_vars task loaded, and the per-host decision whether it applies. */
export interface IncludedVars {
  vars: Record<string, unknown>;
  positions: Map<string, SourcePos>;
  /** Its condition (its own and what its role or include gives it), evaluated per host in `at`. */
  when?: string;
  whenPos: SourcePos;
  tags: string[];
  /** The scope the include_vars task itself sees (the include_vars before it included). */
  at?: ScopedVars;
}

export interface Play {
  name: string;
  hosts: string;
  become: boolean;
  become_user?: string;
  /** Rolling batch size: a count, or a percentage string such as "25%". */
  serial?: number | string;
  max_fail_percentage?: number;
  /** Issue 13: `gather_facts: false` turns facts off; otherwise facts are read when the play reads them. */
  gather_facts?: boolean;
  /** Ansible's `gather_subset` (`all`, `min`, `hardware`, `network`, `!…`); absent means all. */
  gather_subset?: string[];
  any_errors_fatal?: boolean;
  vars: Record<string, unknown>;
  vars_files: string[];
  /** Secret name → raw template; rendered values are redacted everywhere. */
  secrets: Record<string, string>;
  tasks: Task[];
  handlers: Task[];
  pos: SourcePos;
}

export interface Playbook {
  file: string;
  plays: Play[];
}
