/**
 * package: Ansible's generic package module. On a host whose package manager
 * is apt (Ansible's pkg_mgr fact, read here with a few `[ -e ]` tests rather
 * than the whole host-facts probe) it is exactly the apt module with name and
 * state; elsewhere it fails with a clear "not supported here", since plumb
 * drives only apt.
 */
import { z } from 'zod';
import { pkgMgr } from '../facts/pkg-mgr.js';
import { fact } from '../facts/types.js';
import { aptArgs, aptFacts, aptMerge, aptPlan, packageNames } from './apt.js';
import { defineModule, known, ModuleError, type Probed } from './types.js';

const packageArgs = z.strictObject({
  name: packageNames.describe('a package name or a list of them (name:arch allowed; name=version pins a version)'),
  state: z.enum(['present', 'absent', 'latest']).default('present').describe('installed, removed, or at the candidate version'),
  use: z.enum(['auto', 'apt']).default('auto').describe("the package manager: auto uses the host's (plumb drives apt only)"),
});

type PackageArgs = z.output<typeof packageArgs>;

/** The apt task this package task is. */
function asApt(args: PackageArgs) {
  return aptArgs.parse({ name: args.name, state: args.state });
}

export const package_ = defineModule<PackageArgs, Record<string, unknown>>({
  name: 'package',
  summary: "packages present, absent or latest with the host's package manager: apt on Debian, a clear error elsewhere",
  schema: packageArgs,
  aliases: { pkg: 'name' },
  differences: ['package takes name, state and use only; Ansible passes any other argument through to the backend module (use apt for apt-only arguments).'],
  title: (args) => (Array.isArray(args.name) ? args.name.join(', ') : String(args.name ?? '')),
  facts: (args) => ({ pkgMgr: fact(pkgMgr, {}), ...aptFacts(asApt(args)) }),
  plan(args, facts) {
    const manager = known(facts.pkgMgr as Probed<string>);
    if (args.use === 'auto' && manager !== 'apt') throw new ModuleError(`package: not supported here: the host's package manager is ${manager}, and plumb drives apt only`);
    return aptPlan(asApt(args), facts as Parameters<typeof aptPlan>[1]);
  },
  merge: (steps, args) => aptMerge(steps, asApt(args)),
});
