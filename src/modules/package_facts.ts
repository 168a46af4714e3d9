/**
 * package_facts: `ansible_facts.packages`, every installed package (name →
 * its installed versions) from dpkg's database (src/facts/packages.ts), as
 * Ansible's apt manager lists them. plumb reads apt only: `manager` takes
 * auto or apt. Read-only: its read joins the probe batch and the tasks after
 * it see the facts.
 */
import { z } from 'zod';
import { packages, type Packages } from '../facts/packages.js';
import { fact } from '../facts/types.js';
import { ansibleList } from './fact-lists.js';
import { defineModule, known } from './types.js';

const packageFactsArgs = z.strictObject({
  manager: ansibleList(z.enum(['auto', 'apt'], { message: 'plumb reads apt (dpkg) packages only: manager takes auto or apt' }))
    .optional()
    .describe("package managers to read: auto or apt (plumb reads dpkg's database); default auto"),
  strategy: z.enum(['first', 'all']).optional().describe("Ansible's choice between the first usable manager and all; with apt only, the same"),
});

type PackageFactsArgs = z.output<typeof packageFactsArgs>;

export const package_facts = defineModule<PackageFactsArgs, { packages: Packages }>({
  name: 'package_facts',
  summary: "ansible_facts.packages: every installed package with its versions, from dpkg's database as Ansible's apt manager lists them",
  schema: packageFactsArgs,
  title: () => 'package_facts',
  facts: () => ({ packages: fact(packages, {}) }),
  plan(_args, facts) {
    known(facts.packages);
    return [];
  },
  setsFacts: (_args, facts) => ({ packages: known(facts.packages) }),
});
