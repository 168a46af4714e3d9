/**
 * zod schemas of the playbook and inventory language. Validation walks the
 * document with these (src/config/playbook.ts, src/inventory/load.ts) so that
 * every error keeps its position; `plumb schema` turns the same schemas into
 * JSON Schema for editors (src/config/jsonschema.ts).
 */
import { z } from 'zod';

export const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and _, not starting with a digit');

/** A usable variable name; `__proto__` is refused because it would be the prototype, not data. */
export function isVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name !== '__proto__';
}
const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1))]);

/** Task keywords besides the module key. */
export const taskKeywords = {
  name: z.string().min(1),
  notify: stringOrList,
  tags: stringOrList,
  when: z.union([z.string().min(1), z.boolean(), z.array(z.string().min(1))]),
  become: z.boolean(),
  become_user: z.string().min(1),
  ignore_errors: z.boolean(),
  changed_when: z.union([z.string().min(1), z.boolean()]),
} as const;
export type TaskKeyword = keyof typeof taskKeywords;
export const taskKeywordNames = Object.keys(taskKeywords) as TaskKeyword[];

const varsMap = z.record(z.string(), z.unknown()).nullable();

export const playKeywords = {
  name: z.string().min(1),
  hosts: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  become: z.boolean(),
  become_user: z.string().min(1),
  serial: z.union([z.number().int().positive(), z.string().regex(/^(100|[1-9][0-9]?)%$/, 'serial is a count such as 5 or a percentage such as "25%"')]),
  max_fail_percentage: z.number().min(0).max(100),
  vars: varsMap,
  vars_files: z.array(z.string().min(1)).nullable(),
  secrets: z.record(z.string(), z.string()).nullable(),
  tasks: z.array(z.unknown()).nullable(),
  handlers: z.array(z.unknown()).nullable(),
} as const;
export type PlayKeyword = keyof typeof playKeywords;
export const playKeywordNames = Object.keys(playKeywords) as PlayKeyword[];
export const requiredPlayKeywords: PlayKeyword[] = ['hosts'];

/** Connection settings (plumb's names for Ansible's ansible_* variables), allowed in host and group vars. */
export const connectionKeys = {
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  identity_file: z.string().min(1),
  jump: z.string().min(1),
  become_password_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name such as BECOME_PASS'),
  connection: z.enum(['ssh', 'local']),
} as const;
export type ConnectionKey = keyof typeof connectionKeys;
export const connectionKeyNames = Object.keys(connectionKeys) as ConnectionKey[];

/** Ansible's spellings, so an Ansible inventory gets a pointer instead of silence. */
export const ansibleConnectionNames: Record<string, ConnectionKey> = {
  ansible_host: 'host',
  ansible_ssh_host: 'host',
  ansible_port: 'port',
  ansible_ssh_port: 'port',
  ansible_user: 'user',
  ansible_ssh_user: 'user',
  ansible_ssh_private_key_file: 'identity_file',
  ansible_connection: 'connection',
};

export const groupKeywordNames = ['hosts', 'vars', 'children'] as const;

/** Names a playbook cannot define because plumb provides them. */
export const reservedVariables = ['env', 'inventory_hostname', 'groups', 'group_names', 'hostvars'];
