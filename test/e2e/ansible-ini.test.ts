/**
 * An Ansible-shaped project converges a real Debian host: an INI inventory
 * that reaches the host only through Ansible's connection variables
 * (ansible_host, ansible_user, ansible_port, ansible_ssh_private_key_file),
 * group_vars beside it, and include_vars in the play. The second run changes
 * nothing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { plumb, type PlumbRun } from './plumb.js';

const isRoot = process.getuid?.() === 0;
const runE2E = isRoot || process.env.CI === 'true';
if (!runE2E) console.warn('Ansible INI e2e tests skipped: they need root (network namespaces, overlayfs, chroot)');

describe.skipIf(!runE2E)('an INI inventory with Ansible connection variables on a fleet host', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let project: string;
  const run = (args: string[]): Promise<PlumbRun> => plumb([...args, join(project, 'site.yml'), '-i', join(project, 'inventory', 'hosts'), '--known-hosts', fleet.knownHostsPath]);

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 1 });
    const [host] = fleet.hosts;
    project = mkdtempSync(join(tmpdir(), 'plumb-ansible-ini-'));
    mkdirSync(join(project, 'inventory', 'group_vars'), { recursive: true });
    mkdirSync(join(project, 'vars'));
    // The inventory name is an alias: only ansible_host says where the host is.
    writeFileSync(
      join(project, 'inventory', 'hosts'),
      [
        '[relays]',
        `relay-a ansible_host=${host.address} ansible_user=root ansible_port=22 ansible_ssh_private_key_file=${fleet.identityPath}`,
        '',
        '[mail:children]',
        'relays',
        '',
      ].join('\n'),
    );
    writeFileSync(join(project, 'inventory', 'group_vars', 'all.yml'), 'conf_dir: /srv/ini-e2e\nowner_label: from-all\n');
    writeFileSync(join(project, 'inventory', 'group_vars', 'mail.yml'), 'relay_host: "[smtp.example.org]:587"\nowner_label: from-mail\n');
    writeFileSync(join(project, 'vars', 'tuning.yml'), 'queue_lifetime: 2d\n');
    writeFileSync(
      join(project, 'site.yml'),
      [
        '- hosts: mail',
        '  tasks:',
        '    - ansible.builtin.file: path={{ conf_dir }} state=directory mode=0755',
        '    - include_vars: tuning.yml',
        '    - name: write the relay settings',
        '      ansible.builtin.copy:',
        '        dest: "{{ conf_dir }}/relay.conf"',
        '        content: "relayhost = {{ relay_host }}\\nlifetime = {{ queue_lifetime }}\\nowner = {{ owner_label }}\\nhost = {{ inventory_hostname }}\\n"',
        '        mode: 0644',
        '',
      ].join('\n'),
    );
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('converges, then changes nothing', async () => {
    const first = await run(['apply']);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toMatch(/^relay-a\s+changed\s+\d+\s+2\s/m);
    const [host] = fleet.hosts;
    expect(await fleet.sh(host.name, 'cat /srv/ini-e2e/relay.conf')).toBe('relayhost = [smtp.example.org]:587\nlifetime = 2d\nowner = from-mail\nhost = relay-a');
    expect(await fleet.sh(host.name, 'stat -c %a /srv/ini-e2e /srv/ini-e2e/relay.conf')).toBe('755\n644');

    const second = await run(['apply']);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    expect(second.stdout).toMatch(/^relay-a\s+ok\s+\d+\s+0\s/m);
  });
});
