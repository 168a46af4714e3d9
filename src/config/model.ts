/**
 * The validated, position-annotated playbook and inventory model that flows
 * load → validate → plan → apply. Values here are still un-rendered templates
 * (strings may contain `{{ }}`); rendering happens per host in the engine.
 */

export interface SourcePos {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}

export interface Task {
  /** Display name: `name`, or `<module>` when none was given. */
  name: string;
  module: string;
  /** Raw module arguments (validated against the module schema, un-rendered). */
  args: unknown;
  notify: string[];
  tags: string[];
  when?: string;
  become?: boolean;
  become_user?: string;
  ignore_errors: boolean;
  changed_when?: string | boolean;
  pos: SourcePos;
}

export interface Play {
  name: string;
  hosts: string;
  become: boolean;
  become_user?: string;
  /** Rolling batch size: a count, or a percentage string such as "25%". */
  serial?: number | string;
  max_fail_percentage?: number;
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

/** Connection settings of one host (plumb's names for Ansible's ansible_* keys). */
export interface Connection {
  host?: string;
  port?: number;
  user?: string;
  identity_file?: string;
  /** One jump host or a chain "a,b" (ssh -J syntax), or inventory host names. */
  jump?: string;
  become_password_env?: string;
  /** `ssh` (default) or `local` for the control machine itself. */
  connection?: 'ssh' | 'local';
}

export interface InventoryHost {
  name: string;
  /** Groups the host belongs to, directly or through parents, `all` first. */
  groups: string[];
  /** Merged variables: all < parent group < child group < host. */
  vars: Record<string, unknown>;
  connection: Connection;
}

export interface Inventory {
  file: string;
  hosts: Map<string, InventoryHost>;
  /** group name → direct and indirect member host names, in inventory order. */
  groups: Map<string, string[]>;
}
