/** `plumb inventory -i INVENTORY [--limit PATTERN]`: resolved hosts, groups and variables, secrets redacted. */
import { stringify } from 'yaml';
import { formatDiagnostics } from '../source/diagnostics.js';
import { loadInventoryOnly } from '../config/project.js';
import { matchHosts } from '../inventory/patterns.js';
import { Redactor } from '../redactor.js';
import type { Command } from './command.js';
import { EXIT } from '../errors.js';
import { UsageError } from './errors.js';
import { describeOptions, parseCommand, pickOptions } from './options.js';
import { vaultContext } from './vault.js';

const options = pickOptions('inventory', 'limit', 'secrets', 'format', 'vault-id', 'vault-password-file', 'ask-vault-pass');

export const inventoryCommand: Command = {
  name: 'inventory',
  summary: 'show resolved hosts, groups and variables (secrets redacted)',
  help: `Usage: plumb inventory -i INVENTORY [--limit PATTERN] [--format text|json]

Shows each host with its groups, its connection settings and its merged
variables (all < parent group < child group < host). Values from --secrets
and values decrypted from Ansible Vault are shown as ***.

Options:
${describeOptions(['inventory', 'limit', 'secrets', 'format', 'vault-id', 'vault-password-file', 'ask-vault-pass', 'verbose', 'help'])}

Examples:
  plumb inventory -i inventory.example.yaml
  plumb inventory -i inventory.yaml --limit 'mailers:!mx2'
  plumb inventory -i inventory.yaml --format json --secrets secrets.yaml`,

  async run(argv, io) {
    const { options: o, positionals } = parseCommand('inventory', argv, options);
    if (o.help) {
      io.stdout(this.help);
      return EXIT.ok;
    }
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, 'inventory');
    if (!o.inventory) throw new UsageError('missing -i INVENTORY', 'inventory');
    if (o.format === 'markdown') throw new UsageError('inventory prints text or json', 'inventory');
    const { inventory, secrets, warnings, sources, vaultValues } = loadInventoryOnly(o.inventory, o.secrets, await vaultContext(o, io));
    const redactor = new Redactor();
    for (const v of Object.values(secrets)) redactor.add(v);
    for (const v of vaultValues) redactor.add(v);
    if (warnings.length) io.stderr(formatDiagnostics(warnings, sources, redactor));
    const names = o.limit ? matchHosts(inventory, o.limit) : [...inventory.hosts.keys()];
    const selected = new Set(names);

    if (o.format === 'json') {
      const out = {
        file: inventory.file,
        groups: Object.fromEntries([...inventory.groups].map(([g, hs]) => [g, hs.filter((h) => selected.has(h))])),
        hosts: Object.fromEntries(
          names.map((n) => {
            const h = inventory.hosts.get(n)!;
            return [n, { groups: h.groups, connection: h.connection, vars: h.vars }];
          }),
        ),
      };
      io.stdout(JSON.stringify(redactor.redactDeep(out), null, 2));
      return EXIT.ok;
    }

    const lines: string[] = [`${inventory.file}: ${names.length} host${names.length === 1 ? '' : 's'}${o.limit ? ` matching ${JSON.stringify(o.limit)}` : ''}`];
    lines.push('', 'groups:');
    for (const [g, hs] of inventory.groups) {
      const members = hs.filter((h) => selected.has(h));
      if (members.length || !o.limit) lines.push(`  ${g}: ${members.join(', ') || '(no hosts)'}`);
    }
    lines.push('', 'hosts:');
    for (const n of names) {
      const h = inventory.hosts.get(n)!;
      const c = h.connection;
      const target = c.connection === 'local' ? 'local' : `${c.user ? `${c.user}@` : ''}${c.host ?? n}:${c.port ?? 22}`;
      lines.push(`  ${n}  ${target}${c.jump ? ` via ${c.jump}` : ''}  groups: ${h.groups.join(', ')}`);
      const vars = Object.keys(h.vars).length ? stringify(h.vars, { lineWidth: 0 }).trimEnd().split('\n') : ['{}'];
      for (const line of vars) lines.push(`      ${line}`);
    }
    io.stdout(redactor.redact(lines.join('\n')));
    return EXIT.ok;
  },
};
