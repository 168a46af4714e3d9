/**
 * dpkg_selections: dpkg's selection of a package (install, hold, deinstall,
 * purge), read with `dpkg --get-selections` and set with
 * `dpkg --set-selections` (the line on stdin), as Ansible's module does. A
 * package dpkg does not know has no selection ("not present"): dpkg ignores
 * a selection for it with a warning, so — as in Ansible — such a task
 * reports a change on every run.
 */
import { z } from 'zod';
import { dpkgSelectionOf, type Selection } from '../facts/dpkg-selections.js';
import { SBIN_PATH } from '../facts/types.js';
import { defineModule, known, type Planned } from './types.js';

/** A Debian package name, optionally :ARCH (never a glob or an option: dpkg --get-selections reads patterns). */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?$/;

const dpkgSelectionsArgs = z.strictObject({
  name: z.string().regex(PACKAGE, { message: 'not a Debian package name (lowercase letters, digits, + - and ., at least 2 characters; optionally :ARCH)' }).describe('the package'),
  selection: z.enum(['install', 'hold', 'deinstall', 'purge']).describe("dpkg's selection: install, hold (apt will not upgrade or remove it), deinstall or purge"),
});

type DpkgSelectionsArgs = z.output<typeof dpkgSelectionsArgs>;

function plan(args: DpkgSelectionsArgs, { selection: current }: Selection): Planned[] {
  if (current === args.selection) return [];
  const before = current ?? 'not present';
  return [
    {
      change: { summary: `${args.name}: ${before} → ${args.selection}`, target: `dpkg selection ${args.name}`, before, after: args.selection },
      steps: [
        {
          kind: 'exec',
          command: `${SBIN_PATH}; dpkg --set-selections`,
          stdin: `${args.name} ${args.selection}\n`,
          describe: `dpkg --set-selections: ${args.name} ${args.selection}`,
        },
      ],
    },
  ];
}

export const dpkg_selections = defineModule<DpkgSelectionsArgs, { selection: Selection }>({
  name: 'dpkg_selections',
  summary: "dpkg's selection of a package: install, hold, deinstall or purge (dpkg --get-selections / --set-selections)",
  schema: dpkgSelectionsArgs,
  title: (args) =>
    [args.name, args.selection]
      .filter((x) => x !== undefined)
      .map(String)
      .join(' '),
  facts: (args) => ({ selection: dpkgSelectionOf(args.name) }),
  plan: (args, facts) => plan(args, known(facts.selection)),
});
