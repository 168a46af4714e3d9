/**
 * debug: prints a message or a variable's value, in the plan and in apply's output, and
 * registers it (`msg`, or the variable's name) as Ansible does. It reads nothing on the host
 * and changes nothing. `var` is a bare Jinja expression the engine evaluates with the task's
 * variables (registered values too); what it reads from a secret prints as ***, as anything
 * computed from one does. Ansible prints values as JSON; so does plumb, on one line.
 */
import { z } from 'zod';
import { defineModule, type ModuleContext } from './types.js';

export const debugArgs = z
  .strictObject({
    msg: z.unknown().optional().describe('the message to print (text, or any value, printed as JSON); default "Hello world!"'),
    var: z.string().min(1).optional().describe('a variable (or expression, written without {{ }}) whose value to print'),
    verbosity: z.coerce.number().int().min(0).default(0).describe('print only at this verbosity; plumb runs at 0, so above 0 the task prints nothing'),
  })
  .refine((a) => a.msg === undefined || a.var === undefined, { message: "'msg' and 'var' are incompatible options" });

export type DebugArgs = z.output<typeof debugArgs>;

/** What Ansible's debug registers when the variable is not defined. */
export const NOT_DEFINED = 'VARIABLE IS NOT DEFINED!';

/** A value as plumb prints it: text as it is, anything else as compact JSON (Ansible's callback prints JSON). */
export function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? 'null';
}

function result(args: DebugArgs, ctx: ModuleContext): Record<string, unknown> | undefined {
  if (args.verbosity > 0) return undefined;
  if (args.var !== undefined) {
    const v = ctx.value(args.var);
    return { [args.var]: v.defined ? v.value : NOT_DEFINED };
  }
  return { msg: args.msg === undefined ? 'Hello world!' : args.msg };
}

export const debug = defineModule<DebugArgs, Record<string, never>>({
  name: 'debug',
  summary: "prints a message or a variable's value in the plan and apply output (secrets as ***) and registers it; changes nothing",
  schema: debugArgs,
  control: true,
  differences: [
    'A task with `verbosity` above 0 is ok and prints nothing (plumb has no -v); Ansible reports it skipped ("Verbosity threshold not met.").',
    '`msg` with `var` is refused when the playbook is checked, before any host is contacted; Ansible fails the task when it runs.',
  ],
  title: (args) => (typeof args.var === 'string' ? args.var : typeof args.msg === 'string' ? args.msg : ''),
  facts: () => ({}),
  expressions: (args) => (args.var !== undefined && args.verbosity === 0 ? { values: [args.var] } : {}),
  plan(args, _facts, ctx) {
    // Evaluated here too, so a `var` that cannot be evaluated fails the task as it does in Ansible.
    result(args, ctx);
    return [];
  },
  message(args, _facts, ctx) {
    const r = result(args, ctx);
    if (!r) return undefined;
    if (args.var !== undefined) return `${args.var}: ${shown(r[args.var])}`;
    return shown(r.msg);
  },
  registers(args, _facts, ctx) {
    return result(args, ctx) ?? { skipped_reason: 'Verbosity threshold not met.' };
  },
});
