/**
 * ansible.cfg's vault_password_file and vault_identity_list: files encrypted
 * by the real ansible-vault decrypt with no password option on the command
 * line, as ansible-playbook does with the same ansible.cfg.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../in-process.js';
import { encryptFiles, runVaultOracle, vaultDir, type Password } from '../vault-oracle.js';

const outer: Password = { label: 'default', password: 'cfg-default-password', fileText: 'cfg-default-password\n' };
const dev: Password = { label: 'dev', password: 'cfg-dev-password', fileText: 'cfg-dev-password\n' };

describe.skipIf(!runVaultOracle)('vault passwords from ansible.cfg', { timeout: 60_000 }, () => {
  it('decrypts with vault_password_file and vault_identity_list, and fails without them', async () => {
    const d = vaultDir([outer, dev]);
    mkdirSync(join(d, 'vars'));
    writeFileSync(join(d, 'inventory.ini'), 'here ansible_connection=local\n');
    writeFileSync(join(d, 'vars', 'outer.yml'), 'outer_value: from-the-default-id\n');
    writeFileSync(join(d, 'vars', 'dev.yml'), 'dev_value: from-the-dev-id\n');
    encryptFiles(d, outer, [join(d, 'vars', 'outer.yml')]);
    encryptFiles(d, dev, [join(d, 'vars', 'dev.yml')]);
    writeFileSync(
      join(d, 'site.yml'),
      '- hosts: all\n  vars_files: [vars/outer.yml, vars/dev.yml]\n  tasks:\n    - file: { path: "/tmp/{{ outer_value }}-{{ dev_value }}", state: directory }\n',
    );
    const cfgDir = join(d, 'cfg');
    mkdirSync(cfgDir);
    // Relative to the ansible.cfg's directory, as Ansible resolves a path option.
    writeFileSync(join(cfgDir, 'ansible.cfg'), `[defaults]\nvault_password_file = ../default.pass\nvault_identity_list = dev@${join(d, 'dev.pass')}\n`);
    writeFileSync(join(cfgDir, 'only-file.cfg'), '[defaults]\nvault_password_file = ../default.pass\n');
    const validate = (cfg: string) => runCli(['validate', join(d, 'site.yml'), '-i', join(d, 'inventory.ini')], { PATH: process.env.PATH, HOME: d, ANSIBLE_CONFIG: cfg });

    const both = await validate(join(cfgDir, 'ansible.cfg'));
    expect(both.stderr).toBe('');
    expect(both.code).toBe(0);
    const onlyFile = await validate(join(cfgDir, 'only-file.cfg'));
    expect(onlyFile.code).toBe(1);
    expect(onlyFile.stderr).toContain(`${join(d, 'vars', 'dev.yml')}:1:1: error: cannot decrypt vars file`);
    expect(onlyFile.stderr).not.toContain('outer.yml');
    // A --vault-id on the command line adds to ansible.cfg's password file (Ansible adds it whatever the command line says).
    const mixed = await runCli(['validate', join(d, 'site.yml'), '-i', join(d, 'inventory.ini'), '--vault-id', `dev@${join(d, 'dev.pass')}`], {
      PATH: process.env.PATH,
      HOME: d,
      ANSIBLE_CONFIG: join(cfgDir, 'only-file.cfg'),
    });
    expect(mixed.stderr).toBe('');
    expect(mixed.code).toBe(0);
    for (const r of [both, onlyFile, mixed]) expect(r.stdout + r.stderr).not.toMatch(/from-the-(default|dev)-id|cfg-(default|dev)-password/);
  });
});
