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

/**
 * Variables layered around the host's and the play's (Ansible's precedence):
 * `defaults` (role defaults) under the inventory, `vars` (role vars, role
 * parameters, include parameters, merged in that order) over the play's vars
 * and under secrets and -e. One object is shared by every task of a role or
 * include, so a host's derived scope is built once per object.
 */
export interface ScopedVars {
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  positions: Map<string, SourcePos>;
}

export interface Play {
  name: string;
  hosts: string;
  become: boolean;
  become_user?: string;
  /** Rolling batch size: a count, or a percentage string such as "25%". */
  serial?: number | string;
  max_fail_percentage?: number;
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
