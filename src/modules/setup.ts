/**
 * setup: Ansible's host facts, gathered again as a task (after a change, or
 * with `gather_facts: false`), optionally only some of them. `filter` keeps
 * the facts whose `ansible_` name matches one of its fnmatch patterns (a
 * pattern without the prefix gets it, as in Ansible); `gather_subset` picks
 * Ansible's subsets. Read-only: its read joins the probe batch, its plan is
 * always ok, and the tasks after it see the facts it sets.
 */
import { z } from 'zod';
import { factsInSubsets, hostFacts, subsetsOf, type HostFacts } from '../facts/host-facts.js';
import { fact } from '../facts/types.js';
import { ansibleList, fnmatchRegExp } from './fact-lists.js';
import { defineModule, known } from './types.js';

/** Ansible's gather_subset words; plumb reads min, hardware and network (virtual, ohai and facter give nothing). */
const SUBSET = /^!?(all|min|hardware|network|virtual|ohai|facter)$/;

const setupArgs = z.strictObject({
  filter: ansibleList(z.string()).optional().describe('fnmatch patterns on fact names (ansible_distribution*, or without the prefix); only matching facts are set. Default: all'),
  gather_subset: ansibleList(z.string().regex(SUBSET, { message: 'gather_subset takes all, min, hardware, network, virtual, ohai, facter, each optionally with !' }))
    .optional()
    .describe('Ansible subsets to gather (all, min, hardware, network; !x leaves one out); default all'),
  gather_timeout: z.number().int().positive().optional().describe("accepted as Ansible's; plumb's probe timeout applies"),
});

type SetupArgs = z.output<typeof setupArgs>;

/** Ansible's _filter: a pattern matches the prefixed name, or, when it lacks the prefix, the name with it. */
export function filterFacts(facts: HostFacts, patterns: readonly string[] | undefined): HostFacts {
  if (!patterns || patterns.length === 0 || (patterns.length === 1 && patterns[0] === '*')) return facts;
  const tests = patterns.map((p) =>
    p === ''
      ? () => true
      : (
          (re, alt) => (n: string) =>
            re.test(n) || (alt?.test(n) ?? false)
        )(fnmatchRegExp(p), /^(ansible_|facter|ohai)/.test(p) ? undefined : fnmatchRegExp(`ansible_${p}`)),
  );
  return Object.fromEntries(Object.entries(facts).filter(([name]) => tests.some((t) => t(`ansible_${name}`))));
}

export const setup = defineModule<SetupArgs, { host: HostFacts }>({
  name: 'setup',
  summary: "Ansible's host facts as a task (again after a change, or with gather_facts: false), with filter and gather_subset",
  schema: setupArgs,
  title: (a) => ['setup', ...[a.filter ?? []].flat().map(String)].join(' '),
  facts: () => ({ host: fact(hostFacts, {}) }),
  plan(_args, facts) {
    known(facts.host);
    return [];
  },
  setsFacts: (args, facts) => filterFacts(factsInSubsets(known(facts.host), subsetsOf(args.gather_subset)), args.filter),
});
