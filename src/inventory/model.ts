/** The loaded inventory: hosts with their groups, merged variables and connection settings. */

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
  /** Merged variables in Ansible's order: groups (all < parent < child), group_vars, host, host_vars (see builder.ts). */
  vars: Record<string, unknown>;
  connection: Connection;
}

/** One group as written: direct hosts, direct children, its own variables (what `ansible-inventory --list` shows). */
export interface InventoryGroup {
  hosts: string[];
  children: string[];
  vars: Record<string, unknown>;
}

export interface Inventory {
  /** The sources joined with "," (one file or directory, usually). */
  file: string;
  sources: string[];
  hosts: Map<string, InventoryHost>;
  /** group name → direct and indirect member host names, in inventory order. */
  groups: Map<string, string[]>;
  /** group name → the group as written, for the Ansible-shaped listing. */
  tree: Map<string, InventoryGroup>;
}
