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
  changed_when: z.union([z.string().min(1), z.boolean(), z.array(z.string().min(1)).min(1)]),
  // Issue 13 (values checked in src/config/dynamic-keys.ts, with positions).
  register: z.string().min(1).describe('store the task result in this variable'),
  failed_when: z.union([z.string().min(1), z.boolean(), z.array(z.string().min(1)).min(1)]),
  until: z.string().min(1).describe('apply only: run again until this holds'),
  retries: z.number().int().min(0),
  delay: z.number().min(0),
  check_mode: z.boolean().describe('false on a command/shell: it only reads, so plan runs it'),
  loop: z.unknown().describe('a list (or a template rendering to one): the task runs once per item'),
  loop_control: z.strictObject({
    loop_var: z.string().min(1).optional(),
    index_var: z.string().min(1).optional(),
    label: z.string().min(1).optional(),
    pause: z.number().min(0).optional(),
    extended: z.boolean().optional(),
  }),
  with_items: z.unknown(),
  with_list: z.unknown(),
  with_dict: z.unknown(),
  with_together: z.unknown(),
  with_subelements: z.unknown(),
  with_fileglob: z.unknown(),
  with_first_found: z.unknown(),
  with_sequence: z.unknown(),
  with_nested: z.unknown(),
  with_indexed_items: z.unknown(),
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
  gather_subset: z.union([z.string().min(1), z.array(z.string().min(1))]),
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
