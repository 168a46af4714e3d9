/**
 * fail: fails the task with a message (usually under a `when`). It reads nothing on the host,
 * so the plan already shows the host failing, and apply fails it there as for any module error.
 */
import { z } from 'zod';
import { shown } from './debug.js';
import { defineModule, ModuleError } from './types.js';

export const failArgs = z.strictObject({
  msg: z.unknown().optional().describe('the failure message (default "Failed as requested from task")'),
});

export type FailArgs = z.output<typeof failArgs>;

const message = (args: FailArgs) => (args.msg === undefined ? 'Failed as requested from task' : shown(args.msg));

export const fail = defineModule<FailArgs, Record<string, never>>({
  name: 'fail',
  summary: 'fails the task with a message (use with `when`); the plan shows the failure, changes nothing',
  schema: failArgs,
  control: true,
  title: (args) => (typeof args.msg === 'string' ? args.msg : ''),
  facts: () => ({}),
  plan(args) {
    throw new ModuleError(message(args));
  },
  registers: (args) => ({ msg: message(args) }),
});
