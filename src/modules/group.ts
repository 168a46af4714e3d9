/**
 * group: a local group made, renumbered or removed with groupadd, groupmod
 * and groupdel, as Ansible's group module does. `system` only matters when
 * the group is created.
 */
import { z } from 'zod';
import { groupEntryOf } from '../facts/accounts.js';
import { SBIN_PATH } from '../facts/types.js';
import { command } from '../quote.js';
import { accountNameSchema, idSchema } from './accounts.js';
import { defineModule, known, type Planned } from './types.js';

export const groupArgs = z
  .strictObject({
    name: accountNameSchema.describe('the group name'),
    state: z.enum(['present', 'absent']).default('present').describe('present: the group exists; absent: it does not'),
    gid: idSchema.optional().describe('the group id'),
    system: z.boolean().default(false).describe('a system group (gid below GID_MIN); only when the group is created'),
    non_unique: z.boolean().default(false).describe('with gid: allow a gid another group already has (-o)'),
  })
  .refine((a) => !a.non_unique || a.gid !== undefined, { message: 'non_unique needs gid' });

export type GroupArgs = z.output<typeof groupArgs>;

export const group = defineModule<GroupArgs, { group: { exists: boolean; gid?: number } }>({
  name: 'group',
  summary: 'a local group with a given gid, or no such group (groupadd/groupmod/groupdel)',
  schema: groupArgs,
  differences: ['Not yet: `local` (lgroupadd and friends); it is refused when the playbook is checked.'],
  title: (a) => [a.name, a.state === 'absent' ? 'absent' : undefined].filter((x) => x !== undefined).join(' '),
  facts: (args) => ({ group: groupEntryOf(args.name) }),
  plan(args, facts): Planned[] {
    const current = known(facts.group);
    const target = `group ${args.name}`;
    const run = (describe: string, ...words: Array<string | number>) => ({ kind: 'exec' as const, command: `${SBIN_PATH}; ${command(...words)}`, describe });
    const unique = args.non_unique ? ['-o'] : [];
    if (args.state === 'absent') {
      if (!current.exists) return [];
      return [{ change: { summary: `remove group ${args.name}`, target, before: 'present', after: 'absent' }, steps: [run(`groupdel ${args.name}`, 'groupdel', '--', args.name)] }];
    }
    if (!current.exists) {
      const flags = [...(args.gid !== undefined ? ['-g', args.gid, ...unique] : []), ...(args.system ? ['-r'] : [])];
      const shown = [args.gid !== undefined ? `gid ${args.gid}` : '', args.system ? 'system' : ''].filter(Boolean).join(', ');
      return [
        {
          change: { summary: `create group ${args.name}${shown ? ` (${shown})` : ''}`, target, before: 'absent', after: 'present' },
          steps: [run(`groupadd ${args.name}`, 'groupadd', ...flags, '--', args.name)],
        },
      ];
    }
    if (args.gid === undefined || args.gid === current.gid) return [];
    return [
      {
        change: { summary: `gid: ${current.gid} → ${args.gid}`, target: `${target} gid`, before: current.gid, after: args.gid },
        steps: [run(`groupmod ${args.name}`, 'groupmod', '-g', args.gid, ...unique, '--', args.name)],
      },
    ];
  },
});
