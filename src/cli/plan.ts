/** `plumb plan PLAYBOOK -i INVENTORY`: probe every host, show what apply would change, change nothing. */
import type { Command } from './command.js';
import { EXIT } from '../errors.js';
import { UsageError } from './errors.js';
import { listCommand } from './list.js';
import { describeOptions, parseCommand, pickOptions, type OptionName } from './options.js';
import { runCommand, toRunOptions } from './run-command.js';
import { ansibleCfgFor } from './ansible-cfg.js';

const names: OptionName[] = [
  'inventory',
  'limit',
  'tags',
  'skip-tags',
  'extra-vars',
  'secrets',
  'vault-id',
  'vault-password-file',
  'ask-vault-pass',
  'format',
  'out',
  'forks',
  'known-hosts',
  'accept-new-host-keys',
  'ssh-config',
  'ask-become-pass',
  'connect-timeout',
  'task-timeout',
  'roles-path',
  'list-hosts',
  'list-tasks',
  'list-tags',
  'start-at-task',
  'shard',
];
const options = pickOptions(...names);

export const planCommand: Command = {
  name: 'plan',
  help: `Usage: plumb plan PLAYBOOK -i INVENTORY [options]

Connects to every matched host (one SSH connection each, in parallel), reads
the current state of every task in one round trip per host, and prints what
apply would change: per host, each task that will change (with unified diffs
for files), may change (and why), and the handlers that will run because of
them. Nothing on any host is changed. Secret values never appear: a secret
file's change reads "content changed (secret)".

The plan goes to stdout, progress and the recap to stderr.
  --format text       for a terminal (default)
  --format markdown   for a pull-request comment (identical hosts grouped)
  --format json       for machines (schema: plumb schema plan)
  --out PLAN.json     also save the plan; "plumb apply PLAN.json" applies exactly it
  --shard I/N         plan only shard I of N (by host name, after --limit); join the
                      N saved plans with "plumb merge" (docs/ci-matrix.md)

Exit code: 0 no changes, 2 changes pending, 1 error, 4 some host unreachable.

Options:
${describeOptions([...names, 'verbose', 'help'])}

Examples:
  plumb plan site.yaml -i inventory.yaml
  GMAIL_APP_PASSWORD=... plumb plan playbooks/postfix-gmail-relay.yaml -i inventory.yaml
  plumb plan site.yaml -i inventory.yaml --limit 'mailers:!mx3' --format markdown > plan.md
  plumb plan site.yaml -i inventory.yaml --out plan.json && plumb apply plan.json
  plumb plan site.yaml -i inventory.yaml --shard 2/4 --out plan-2.json`,

  async run(argv, io) {
    const { options: o, positionals } = parseCommand('plan', argv, options);
    if (o.help) {
      io.stdout(this.help);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one playbook, got ${positionals.length}` : 'missing PLAYBOOK', 'plan');
    const cfg = ansibleCfgFor(o, io, 'plan');
    if (o.listHosts || o.listTasks || o.listTags) return listCommand(toRunOptions(positionals[0], o, cfg), { hosts: o.listHosts, tasks: o.listTasks, tags: o.listTags }, io);
    if (o.startAtTask !== undefined && o.out)
      throw new UsageError('--start-at-task cannot be saved in a plan (--out): apply the saved plan whole, or plan and apply without --out', 'plan');
    return runCommand('plan', toRunOptions(positionals[0], o, cfg), io, { out: o.out });
  },
};
