/**
 * assert: each condition of `that` is evaluated exactly as `when` is, with the task's
 * variables; the first false one fails the task with `fail_msg` (or `msg`), and registers
 * `assertion` and `evaluated_to` as Ansible does. All true: ok, printing `success_msg` unless
 * `quiet`. It reads nothing on the host, so the plan already shows the outcome.
 */
import { z } from 'zod';
import { shown } from './debug.js';
import { defineModule, ModuleError, type ModuleContext } from './types.js';

const text = z.union([z.string(), z.array(z.string())]);

export const assertArgs = z
  .strictObject({
    that: z.union([z.string().min(1), z.array(z.union([z.string().min(1), z.boolean()])).min(1)]).describe('a condition or a list of them, each written as a `when` is (no {{ }})'),
    fail_msg: text.optional().describe('the failure message (a text or a list of texts); default "Assertion failed"'),
    msg: text.optional().describe('the same as fail_msg (fail_msg wins when both are given)'),
    success_msg: text.optional().describe('the message when every condition holds; default "All assertions passed"'),
    quiet: z.boolean().default(false).describe('print nothing when every condition holds'),
  })
  .transform((a) => ({ ...a, that: (Array.isArray(a.that) ? a.that : [a.that]).map(String) }));

export type AssertArgs = z.output<typeof assertArgs>;

/** The first condition that does not hold, or undefined when all do (a condition that cannot be evaluated throws ModuleError). */
function firstFalse(args: AssertArgs, ctx: ModuleContext): string | undefined {
  return args.that.find((that) => !ctx.condition(that));
}

const failMsg = (a: AssertArgs) => a.fail_msg ?? a.msg ?? 'Assertion failed';
const successMsg = (a: AssertArgs) => a.success_msg ?? 'All assertions passed';

export const assert = defineModule<AssertArgs, Record<string, never>>({
  name: 'assert',
  summary: 'checks conditions (each as `when` is evaluated) and fails the task with fail_msg when one is false; changes nothing',
  schema: assertArgs,
  control: true,
  title: (args) => (Array.isArray(args.that) ? args.that.join(', ') : String(args.that ?? '')),
  facts: () => ({}),
  expressions: (args) => ({ conditions: args.that }),
  plan(args, _facts, ctx) {
    if (firstFalse(args, ctx) !== undefined) throw new ModuleError(shown(failMsg(args)));
    return [];
  },
  message: (args) => (args.quiet ? undefined : shown(successMsg(args))),
  registers(args, _facts, ctx) {
    let failed: string | undefined;
    try {
      failed = firstFalse(args, ctx);
    } catch (e) {
      return { msg: e instanceof Error ? e.message : String(e) };
    }
    if (failed === undefined) return { msg: successMsg(args) };
    return { msg: failMsg(args), assertion: failed, evaluated_to: false };
  },
});
