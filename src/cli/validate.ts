/** `plumb validate PLAYBOOK -i INVENTORY`: everything that can be checked without contacting a host. */
import { checkRendering } from '../config/check.js';
import { formatDiagnostics, sortDiagnostics, ValidationFailed } from '../source/diagnostics.js';
import { loadProject, parseExtraVars } from '../config/project.js';
import { applyLimit, matchHosts } from '../inventory/patterns.js';
import type { Command } from './command.js';
import { EXIT } from '../errors.js';
import { UsageError } from './errors.js';
import { describeOptions, parseCommand, pickOptions } from './options.js';
import { vaultContext } from './vault.js';
import { ansibleCfgFor } from './ansible-cfg.js';

const options = pickOptions('inventory', 'limit', 'extra-vars', 'secrets', 'roles-path', 'vault-id', 'vault-password-file', 'ask-vault-pass');

export const validateCommand: Command = {
  name: 'validate',
  help: `Usage: plumb validate PLAYBOOK -i INVENTORY [options]

Parses and type-checks the playbook, its vars_files and the inventory, resolves
every play's hosts and renders every task for every host — without contacting
any host. Reports every error of every file in one run, each as
file:line:column with the key path, what was expected and what was found.
Exit code: 0 valid, 1 errors.

Options:
${describeOptions(['inventory', 'limit', 'extra-vars', 'secrets', 'roles-path', 'vault-id', 'vault-password-file', 'ask-vault-pass', 'verbose', 'help'])}

Without a vault password, an inline !vault value is a warning (its variable
gets a placeholder); a whole file encrypted with ansible-vault is an error.

Examples:
  plumb validate playbooks/postfix-gmail-relay.yaml -i inventory.example.yaml
  plumb validate site.yaml -i inventory.yaml --limit mx1 -e relay_port=2525
  plumb validate site.yaml -i inventory.yaml --secrets secrets.yaml`,

  async run(argv, io) {
    const { options: o, positionals } = parseCommand('validate', argv, options);
    if (o.help) {
      io.stdout(this.help);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one playbook, got ${positionals.length}` : 'missing PLAYBOOK', 'validate');
    const ansibleCfg = ansibleCfgFor(o, io, 'validate');
    const vault = await vaultContext(o, io, true, ansibleCfg.cfg);
    const extraVars = parseExtraVars(o.extraVars, vault);
    const project = await loadProject({ playbookPath: positionals[0], inventoryPath: o.inventory!, extraVars, secretsFile: o.secrets, vault, rolesPath: o.rolesPath, ansibleCfg });
    const check = checkRendering(project, (i) => applyLimit(project.inventory, matchHosts(project.inventory, project.playbook.plays[i].hosts), o.limit), io.env);
    if (o.limit) matchHosts(project.inventory, o.limit); // an unknown name in --limit is an error too
    const diagnostics = sortDiagnostics([...project.warnings, ...check.diagnostics]);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new ValidationFailed(diagnostics, project.sources, check.redactor);
    const warnings = diagnostics.filter((d) => d.severity === 'warning');
    if (warnings.length) io.stderr(formatDiagnostics(warnings, project.sources, check.redactor));

    const plays = project.playbook.plays;
    const tasks = plays.reduce((n, p) => n + p.tasks.length, 0);
    const handlers = plays.reduce((n, p) => n + p.handlers.length, 0);
    const hosts = new Set(check.hosts.flat());
    const lines = [
      `${project.playbook.file}: valid — ${count(plays.length, 'play')}, ${count(tasks, 'task')}, ${count(handlers, 'handler')}, ${count(hosts.size, 'host')}` +
        (warnings.length ? `, ${count(warnings.length, 'warning')}` : ''),
    ];
    plays.forEach((p, i) => {
      const names = check.hosts[i];
      const shown = names.length > 8 ? `${names.slice(0, 8).join(', ')}, … (+${names.length - 8})` : names.join(', ');
      lines.push(
        `  play ${JSON.stringify(p.name)}: hosts ${JSON.stringify(p.hosts)} → ${count(names.length, 'host')}${names.length ? ` (${shown})` : ''}; ${count(p.tasks.length, 'task')}, ${count(p.handlers.length, 'handler')}`,
      );
    });
    io.stdout(check.redactor.redact(lines.join('\n')));
    return EXIT.ok;
  },
};

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
