/** `plumb apply PLAYBOOK|PLAN.json`: make every matched host match the playbook, changing only what differs. */
import { looksLikeSavedPlan } from '../engine/saved-plan.js';
import type { Command } from './command.js';
import { EXIT } from '../errors.js';
import { UsageError } from './errors.js';
import { listCommand } from './list.js';
import { describeOptions, parseCommand, pickOptions, type OptionName } from './options.js';
import { applySavedPlan, runCommand, toRunOptions } from './run-command.js';
import { ansibleCfgFor } from './ansible-cfg.js';
import { loadAnsibleCfg } from '../config/ansible-cfg.js';

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
  'forks',
  'fail-fast',
  'diff',
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
  'format',
  'out',
];
const options = pickOptions(...names);

export const applyCommand: Command = {
  name: 'apply',
  help: `Usage: plumb apply PLAYBOOK -i INVENTORY [options]
       plumb apply PLAN.json [options]

Plans every matched host (one round trip each), then changes only what
differs, in task order; a task whose state was unknown, or that follows a
change, is read again just before it runs. Handlers run once, at the end of
the play, in the order they are defined, only if a task that notified them
changed. If a run stops after a change but before its handlers, the next run
still runs them (the notification is kept on the host).

Hosts run in parallel (--forks, default 50); "serial" in a play makes rolling
batches. A failing or unreachable host stops only itself. Ctrl-C stops new
work, lets running commands finish, prints the recap and exits 130.

With PLAN.json (from "plumb plan --out"), apply refuses to start if the
playbook, inventory or a vars file changed since the plan, re-reads every
planned host, refuses the hosts whose state moved since the plan, and applies
the others exactly as planned. Secrets are supplied again (environment or
--secrets); a changed secret makes the tasks that use it stale.

With --shard I/N only shard I of N of the hosts is applied (split by host
name, after --limit; see docs/ci-matrix.md); a shard with no hosts is a no-op.
"plumb apply --shard I/N merged.json" applies shard I of a plan made by
"plumb merge". A play's "serial" batches and max_fail_percentage count the
shard's hosts: N shards roll N batches at once.

Live progress goes to stderr, the recap to stdout: a table, or with
--format json a document that "plumb merge" joins across shards (--out FILE
also saves it).
Exit code: 0 all converged, 1 error, a host failed or a host was refused, 4 some host unreachable.

Options:
${describeOptions([...names, 'verbose', 'help'])}

Examples:
  plumb apply site.yaml -i inventory.yaml
  GMAIL_APP_PASSWORD=... plumb apply playbooks/postfix-gmail-relay.yaml -i inventory.yaml
  plumb apply site.yaml -i inventory.yaml --limit web1 --diff
  plumb apply plan.json
  plumb apply --shard 2/4 merged.json --format json > recap-2.json`,

  async run(argv, io) {
    const { options: o, positionals } = parseCommand('apply', argv, options);
    if (o.help) {
      io.stdout(this.help);
      return EXIT.ok;
    }
    if (o.format === 'markdown') throw new UsageError('apply prints its recap as text or json, not markdown', 'apply');
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one playbook or plan, got ${positionals.length}` : 'missing PLAYBOOK or PLAN.json', 'apply');
    if (looksLikeSavedPlan(positionals[0]) && o.startAtTask !== undefined)
      throw new UsageError('--start-at-task cannot change a saved plan; it was fixed when it was made', 'apply');
    // A saved plan brings its inventory; ansible.cfg still gives the same connection defaults as when planning.
    if (looksLikeSavedPlan(positionals[0])) return applySavedPlan(positionals[0], toRunOptions(positionals[0], o, loadAnsibleCfg({ env: io.env, cwd: process.cwd() })), io);
    const cfg = ansibleCfgFor(o, io, 'apply');
    if (o.listHosts || o.listTasks || o.listTags) return listCommand(toRunOptions(positionals[0], o, cfg), { hosts: o.listHosts, tasks: o.listTasks, tags: o.listTags }, io);
    return runCommand('apply', toRunOptions(positionals[0], o, cfg), io);
  },
};
