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
