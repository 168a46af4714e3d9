/**
 * zod schemas of the playbook language. Validation walks the document with
 * these (src/config/playbook.ts; the inventory's are in src/inventory/schema.ts)
 * so that every error keeps its position; `plumb schema` turns the same
 * schemas into JSON Schema for editors (src/config/jsonschema.ts).
 */
import { z } from 'zod';

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
  run_once: z.boolean(),
  delegate_to: z.string().min(1),
  any_errors_fatal: z.boolean(),
  ignore_unreachable: z.boolean(),
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
  any_errors_fatal: z.boolean(),
  vars: varsMap,
  vars_files: z.array(z.string().min(1)).nullable(),
  secrets: z.record(z.string(), z.string()).nullable(),
  gather_facts: z.boolean(),
  pre_tasks: z.array(z.unknown()).nullable(),
  roles: z.array(z.unknown()).nullable(),
  tasks: z.array(z.unknown()).nullable(),
  post_tasks: z.array(z.unknown()).nullable(),
  handlers: z.array(z.unknown()).nullable(),
} as const;
export type PlayKeyword = keyof typeof playKeywords;
export const playKeywordNames = Object.keys(playKeywords) as PlayKeyword[];

/** Names a playbook cannot define because plumb provides them. */
export const reservedVariables = ['env', 'inventory_hostname', 'groups', 'group_names', 'hostvars'];
