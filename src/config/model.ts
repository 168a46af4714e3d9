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
