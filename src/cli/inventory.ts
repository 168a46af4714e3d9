/** `plumb inventory -i INVENTORY [--limit PATTERN]`: resolved hosts, groups and variables, secrets redacted. */
import { stringify } from 'yaml';
import { formatDiagnostics } from '../source/diagnostics.js';
import { loadInventoryOnly } from '../config/project.js';
import { matchHosts } from '../inventory/patterns.js';
import { REDACTED, Redactor } from '../redactor.js';
import { passwordVariables } from '../inventory/connection.js';
import type { Inventory } from '../inventory/model.js';
import { ansibleCfgFor } from './ansible-cfg.js';
import type { Command } from './command.js';
import { EXIT } from '../errors.js';
import { UsageError } from './errors.js';
import { describeOptions, parseCommand, pickOptions } from './options.js';
import { vaultContext } from './vault.js';

const options = pickOptions('inventory', 'limit', 'secrets', 'format', 'list', 'playbook-dir', 'vault-id', 'vault-password-file', 'ask-vault-pass');

export const inventoryCommand: Command = {
  name: 'inventory',
  help: `Usage: plumb inventory -i INVENTORY [--limit PATTERN] [--format text|json | --list] [--playbook-dir DIR]

Shows each host with its groups, its connection settings and its merged
variables, in Ansible's order: group variables (all < parent < child), then
group_vars/ files, host variables, host_vars/ files. INVENTORY is an Ansible
YAML or INI file or a directory of them; without -i, ansible.cfg's
[defaults] inventory is used. Values from --secrets, values decrypted from
Ansible Vault and Ansible password variables are shown as ***.

--list prints JSON shaped like \`ansible-inventory --list\` (_meta.hostvars,
each group's hosts and children), so the two can be compared directly.

Options:
${describeOptions(['inventory', 'limit', 'secrets', 'format', 'list', 'playbook-dir', 'vault-id', 'vault-password-file', 'ask-vault-pass', 'verbose', 'help'])}

Examples:
  plumb inventory -i inventory.example.yaml
  plumb inventory -i hosts.ini --list --playbook-dir .
  plumb inventory -i inventory.yaml --limit 'mailers:!mx2'
  plumb inventory -i inventory.yaml --format json --secrets secrets.yaml`,

  async run(argv, io) {
    const { options: o, positionals } = parseCommand('inventory', argv, options);
    if (o.help) {
      io.stdout(this.help);
      return EXIT.ok;
    }
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, 'inventory');
    if (o.format === 'markdown') throw new UsageError('inventory prints text or json', 'inventory');
    if (o.list && o.format) throw new UsageError('--list prints JSON shaped like ansible-inventory --list; leave out --format', 'inventory');
    const ansibleCfg = ansibleCfgFor(o, io, 'inventory');
    const { inventory, secrets, warnings, sources, vaultValues } = loadInventoryOnly(o.inventory!, o.secrets, {
      playbookDir: o.playbookDir,
      ansibleCfg,
      vault: await vaultContext(o, io, false, ansibleCfg.cfg),
    });
    const redactor = new Redactor();
    for (const v of Object.values(secrets)) redactor.add(v);
    for (const v of vaultValues) redactor.add(v);
    if (warnings.length) io.stderr(formatDiagnostics(warnings, sources, redactor));
    const names = o.limit ? matchHosts(inventory, o.limit) : [...inventory.hosts.keys()];
    const selected = new Set(names);
    const shownVars = (vars: Record<string, unknown>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, passwordVariables.has(k) ? REDACTED : v]));

    if (o.list) {
      io.stdout(JSON.stringify(redactor.redactDeep(ansibleList(inventory, names, shownVars)), null, 4));
      return EXIT.ok;
    }

    if (o.format === 'json') {
      const out = {
        file: inventory.file,
        groups: Object.fromEntries([...inventory.groups].map(([g, hs]) => [g, hs.filter((h) => selected.has(h))])),
        hosts: Object.fromEntries(
          names.map((n) => {
            const h = inventory.hosts.get(n)!;
            return [n, { groups: h.groups, connection: h.connection, vars: shownVars(h.vars) }];
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
      // ungrouped is Ansible's implicit group: shown only when it holds someone.
      if (g === 'ungrouped' && !members.length) continue;
      if (members.length || !o.limit) lines.push(`  ${g}: ${members.join(', ') || '(no hosts)'}`);
    }
    lines.push('', 'hosts:');
    for (const n of names) {
      const h = inventory.hosts.get(n)!;
      const c = h.connection;
      const target = c.connection === 'local' ? 'local' : `${c.user ? `${c.user}@` : ''}${c.host ?? n}:${c.port ?? 22}`;
      lines.push(`  ${n}  ${target}${c.jump ? ` via ${c.jump}` : ''}  groups: ${h.groups.join(', ')}`);
      const vars = Object.keys(h.vars).length ? stringify(shownVars(h.vars), { lineWidth: 0 }).trimEnd().split('\n') : ['{}'];
      for (const line of vars) lines.push(`      ${line}`);
    }
    io.stdout(redactor.redact(lines.join('\n')));
    return EXIT.ok;
  },
};

/**
 * The shape of `ansible-inventory --list`: `_meta.hostvars` (hosts with
 * variables only), then each group with its direct `hosts` and `children`;
 * empty keys and empty groups are left out, as Ansible leaves them out.
 */
function ansibleList(inventory: Inventory, names: string[], shownVars: (v: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown> {
  const selected = new Set(names);
  const hostvars: Record<string, unknown> = {};
  for (const n of names) {
    const vars = inventory.hosts.get(n)!.vars;
    if (Object.keys(vars).length) hostvars[n] = shownVars(vars);
  }
  const out: Record<string, unknown> = { _meta: { hostvars } };
  const seen = new Set<string>();
  const visit = (name: string) => {
    seen.add(name);
    const g = inventory.tree.get(name)!;
    const entry: Record<string, string[]> = {};
    const hosts = g.hosts.filter((h) => selected.has(h));
    if (name !== 'all' && hosts.length) entry.hosts = hosts;
    if (g.children.length) entry.children = [...g.children];
    if (Object.keys(entry).length) out[name] = entry;
    for (const c of g.children) if (!seen.has(c)) visit(c);
  };
  visit('all');
  return out;
}
