/**
 * Vault through the CLI (in-process `run(argv, io)`, `connection: local`):
 * vault data made by the real ansible-vault in every place plumb reads YAML
 * (inline in the playbook and the inventory, whole vars_files, `-e @file`,
 * `--secrets`), written into files by copy; the files hold the exact values
 * and no output of validate, inventory, plan (text, json, diff) or apply holds
 * any of them in any common encoding. Then where the passwords come from.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { vaultContext } from '../../src/cli/vault.js';
import type { Io } from '../../src/cli/command.js';
import { decryptVault } from '../../src/source/vault.js';
import { runCli, type CliRun } from '../in-process.js';
import { leaks } from '../secret-forms.js';
import { encryptFiles, encryptStrings, runVaultOracle, vaultDir, type Password } from '../vault-oracle.js';

const outer: Password = { label: 'default', password: 'outer password one', fileText: 'outer password one\n' };
const dev: Password = { label: 'dev', password: 'dev password ü', fileText: 'dev password ü\n' };

const secrets = {
  vault_db_password: 'S3cr3t-DB-pässword',
  vault_api_token: 'tok-1f2e3d4c5b6a',
  host_secret: 'host-secret-value-xyz',
  inline_secret: 'first secret line\nsecond secret line\n',
  extra_token: 'extra-token-value-42',
  file_secret: 'from-the-secrets-file',
};
/** Values computed from the secrets in the playbook: secret too. */
const derived = [Buffer.from(secrets.vault_db_password).toString('base64'), secrets.vault_api_token.toUpperCase(), 'chosen-by-the-secret'];
const everySecret = [...Object.values(secrets), ...derived, ...secrets.inline_secret.split('\n').filter(Boolean)];

let dir: string;
let out: string;
const env = () => ({ PATH: process.env.PATH, HOME: dir, PLUMB_STATE_DIR: join(dir, 'state') });
const withPasswords = () => ['--vault-password-file', join(dir, 'default.pass'), '--vault-id', `dev@${join(dir, 'dev.pass')}`];
const common = () => ['-i', join(dir, 'inventory.yaml'), '-e', `@${join(dir, 'extra.vault.yaml')}`, '--secrets', join(dir, 'secrets.vault.yaml')];
const cli = (args: string[], e: NodeJS.ProcessEnv = env()) => runCli(args, e);
const shown = (r: CliRun) => r.stdout + r.stderr;
const indent = (text: string, n: number) => text.replace(/^(?=.)/gm, ' '.repeat(n));

if (!runVaultOracle) console.warn('vault CLI tests skipped: ansible-vault (ansible-core) is not installed');

describe.skipIf(!runVaultOracle)('vault through the CLI, connection: local', { timeout: 120_000 }, () => {
  beforeAll(() => {
    dir = vaultDir([outer, dev]);
    out = join(dir, 'out');
    mkdirSync(out);
    mkdirSync(join(dir, 'vars'));
    writeFileSync(join(dir, 'vars', 'vault.yaml'), stringify({ vault_db_password: secrets.vault_db_password, vault_api_token: secrets.vault_api_token }));
    writeFileSync(join(dir, 'extra.vault.yaml'), stringify({ extra_token: secrets.extra_token }));
    writeFileSync(join(dir, 'secrets.vault.yaml'), stringify({ file_secret: secrets.file_secret }));
    encryptFiles(dir, dev, [join(dir, 'vars', 'vault.yaml')]);
    encryptFiles(dir, outer, [join(dir, 'extra.vault.yaml'), join(dir, 'secrets.vault.yaml')]);
    const hostInline = encryptStrings(dir, outer, { host_secret: secrets.host_secret });
    const playInline = encryptStrings(dir, dev, { inline_secret: secrets.inline_secret });
    writeFileSync(join(dir, 'inventory.yaml'), `all:\n  hosts:\n    here:\n      connection: local\n${indent(hostInline, 6)}`);
    const tasks = [
      { name: 'all secrets', copy: { dest: join(out, 'all.txt'), content: '{{ vault_db_password }}|{{ host_secret }}|{{ inline_secret }}|{{ extra_token }}|{{ file_secret }}' } },
      { name: 'derived', copy: { dest: join(out, 'derived.txt'), content: '{{ db_b64 }}|{{ vault_api_token | upper }}' } },
      // Computed from a secret, yet no encoding of one: only secrecy that follows the data hides it.
      { name: 'chosen', copy: { dest: join(out, 'chosen.txt'), content: '{{ ("chosen-by-" ~ "the-secret") if "first secret" in inline_secret else "other-choice" }}' } },
      { name: 'not secret', copy: { dest: join(out, 'plain.txt'), content: 'plain {{ plain_var }}\n' } },
    ];
    const play = stringify([{ name: 'vault', hosts: 'all', vars_files: ['vars/vault.yaml'], tasks }]).replace(
      /^ {2}vars_files:/m,
      `  vars:\n    plain_var: visible-value\n    db_b64: "{{ vault_db_password | b64encode }}"\n${indent(playInline, 4)}  vars_files:`,
    );
    writeFileSync(join(dir, 'site.yaml'), play);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validate with the passwords: valid, nothing shown', async () => {
    const r = await cli(['validate', join(dir, 'site.yaml'), ...common(), ...withPasswords()]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(leaks(shown(r), everySecret)).toEqual([]);
  });

  it('validate without a password: the encrypted files are errors naming them, inline values warnings', async () => {
    const r = await cli(['validate', join(dir, 'site.yaml'), '-i', join(dir, 'inventory.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'vars', 'vault.yaml')}:1:1: error: cannot decrypt vars file (encrypted with ansible-vault): no vault password given`);
    expect(r.stderr).toMatch(/site\.yaml:\d+:\d+: warning: \[0\]\.vars\.inline_secret: the vault value is not decrypted/);
    expect(r.stderr).toMatch(/inventory\.yaml:5:27: warning: all\.hosts\.here\.host_secret: the vault value is not decrypted/);
    // -e files are read first, on their own.
    const e = await cli(['validate', join(dir, 'site.yaml'), ...common()]);
    expect(e.stderr).toContain(`${join(dir, 'extra.vault.yaml')}:1:1: error: cannot decrypt extra vars file (encrypted with ansible-vault): no vault password given`);
  });

  it('a wrong password: an error naming the file or the position, no value', async () => {
    const wrong = join(dir, 'wrong.pass');
    writeFileSync(wrong, 'not the password\n');
    const r = await cli(['plan', join(dir, 'site.yaml'), '-i', join(dir, 'inventory.yaml'), '--secrets', join(dir, 'secrets.vault.yaml'), '--vault-password-file', wrong]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${join(dir, 'inventory.yaml')}:5:27: error: all.hosts.here.host_secret: cannot decrypt the vault value: none of the vault passwords given decrypts it`,
    );
    expect(r.stderr).toMatch(/site\.yaml:\d+:\d+: error: \[0\]\.vars\.inline_secret: cannot decrypt the vault value: .*encrypted with vault id "dev"/);
    expect(r.stderr).toContain(`${join(dir, 'secrets.vault.yaml')}:1:1: error: cannot decrypt secrets file`);
    const e = await cli(['plan', join(dir, 'site.yaml'), ...common(), '--vault-password-file', wrong]);
    expect(e.stderr).toContain(`${join(dir, 'extra.vault.yaml')}:1:1: error: cannot decrypt extra vars file`);
    for (const x of [r, e]) expect(leaks(shown(x), everySecret)).toEqual([]);
  });

  it('inventory shows vault values as ***', async () => {
    for (const format of ['text', 'json']) {
      const r = await cli(['inventory', '-i', join(dir, 'inventory.yaml'), '--format', format, ...withPasswords()]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('host_secret');
      expect(leaks(shown(r), everySecret)).toEqual([]);
    }
  });

  it('plan (text, json, diff), apply, plan again: files hold the exact values, outputs none of them', async () => {
    const site = join(dir, 'site.yaml');
    const plan = await cli(['plan', site, ...common(), ...withPasswords()]);
    expect(plan.stderr).not.toMatch(/error|warning/);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/create .*all\.txt \(secret\)/);
    expect(plan.stdout).toMatch(/create .*derived\.txt \(secret\)/);
    expect(plan.stdout).toMatch(/create .*chosen\.txt \(secret\)/);
    expect(plan.stdout).toContain('+plain visible-value'); // a file without secrets keeps its diff
    const json = await cli(['plan', site, ...common(), ...withPasswords(), '--format', 'json']);
    expect(json.code).toBe(2);
    const apply = await cli(['apply', site, ...common(), ...withPasswords(), '--diff']);
    expect(apply.code).toBe(0);
    const again = await cli(['plan', site, ...common(), ...withPasswords()]);
    expect(again.code).toBe(0);
    for (const r of [plan, json, apply, again]) expect(leaks(shown(r), everySecret)).toEqual([]);
    expect(readFileSync(join(out, 'all.txt'), 'utf8')).toBe(
      [secrets.vault_db_password, secrets.host_secret, secrets.inline_secret, secrets.extra_token, secrets.file_secret].join('|'),
    );
    expect(readFileSync(join(out, 'derived.txt'), 'utf8')).toBe(derived.slice(0, 2).join('|'));
    expect(readFileSync(join(out, 'chosen.txt'), 'utf8')).toBe(derived[2]);
  });
});

describe.skipIf(!runVaultOracle)('where vault passwords come from', { timeout: 60_000 }, () => {
  let pdir: string;
  let data: string;
  const io = (extra: Partial<Io> = {}, e: NodeJS.ProcessEnv = {}): Io => ({ stdout: () => {}, stderr: () => {}, env: { PATH: process.env.PATH, ...e }, ...extra });
  const none = { vaultIds: [], vaultPasswordFiles: [], askVaultPass: false };
  const decrypts = async (ctx: Promise<{ secrets: readonly import('../../src/source/vault.js').VaultSecret[] }>) => decryptVault(data, (await ctx).secrets).toString();
  const script = (name: string, body: string) => {
    const path = join(pdir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o700);
    return path;
  };

  beforeAll(() => {
    pdir = vaultDir([dev]);
    const f = join(pdir, 'data');
    writeFileSync(f, 'the plaintext');
    encryptFiles(pdir, dev, [f]);
    data = readFileSync(f, 'utf8');
  });
  afterAll(() => rmSync(pdir, { recursive: true, force: true }));

  it('a password file, surrounding whitespace stripped as Ansible does', async () => {
    expect(await decrypts(vaultContext({ ...none, vaultPasswordFiles: [join(pdir, 'dev.pass')] }, io()))).toBe('the plaintext');
  });
  it('ANSIBLE_VAULT_PASSWORD_FILE when no --vault-password-file is given', async () => {
    expect(await decrypts(vaultContext(none, io({}, { ANSIBLE_VAULT_PASSWORD_FILE: join(pdir, 'dev.pass') })))).toBe('the plaintext');
  });
  it('an executable password file is run; its stdout is the password', async () => {
    const s = script('pass.sh', `printf '%s\\r\\n' '${dev.password}'`);
    expect(await decrypts(vaultContext({ ...none, vaultIds: [`dev@${s}`] }, io()))).toBe('the plaintext');
  });
  it('a *-client script gets --vault-id LABEL', async () => {
    const s = script('vault-client.sh', `[ "$1 $2" = "--vault-id dev" ] || exit 3\nprintf '%s\\n' '${dev.password}'`);
    expect(await decrypts(vaultContext({ ...none, vaultIds: [`dev@${s}`] }, io()))).toBe('the plaintext');
  });
  it('a failing script: its status, not its output', async () => {
    const s = script('fails.sh', `echo 'leaky-stderr-text' >&2\nexit 7`);
    await expect(vaultContext({ ...none, vaultPasswordFiles: [s] }, io())).rejects.toThrow(/^vault password script .*fails\.sh failed: it exited with status 7$/);
  });
  it('an empty password file, a missing one, a directory', async () => {
    const empty = join(pdir, 'empty.pass');
    writeFileSync(empty, ' \n');
    await expect(vaultContext({ ...none, vaultPasswordFiles: [empty] }, io())).rejects.toThrow(/gave an empty password/);
    await expect(vaultContext({ ...none, vaultPasswordFiles: [join(pdir, 'nope')] }, io())).rejects.toThrow(/cannot read vault password file .*nope: no such file/);
    await expect(vaultContext({ ...none, vaultIds: [`x@${pdir}`] }, io())).rejects.toThrow(/cannot read vault password file .*: it is a directory/);
  });
  it('--vault-id with nothing after the @', async () => {
    await expect(vaultContext({ ...none, vaultIds: ['dev@'] }, io())).rejects.toThrow(/expected \[LABEL@\]FILE/);
  });
  it('--ask-vault-pass and LABEL@prompt ask; never in CI, never without a terminal', async () => {
    const asked: string[] = [];
    const prompt = (q: string) => (asked.push(q), Promise.resolve(`  ${dev.password}\n`));
    expect(await decrypts(vaultContext({ ...none, vaultIds: ['dev@prompt'] }, io({ prompt })))).toBe('the plaintext');
    expect(await decrypts(vaultContext({ ...none, askVaultPass: true }, io({ prompt })))).toBe('the plaintext');
    expect(asked).toEqual(['Vault password (dev): ', 'Vault password: ']);
    await expect(vaultContext({ ...none, askVaultPass: true }, io({ prompt }, { CI: 'true' }))).rejects.toThrow(/CI is set, so nobody can answer/);
    await expect(vaultContext({ ...none, askVaultPass: true }, io())).rejects.toThrow(/no terminal; use --vault-password-file/);
    expect(existsSync(pdir)).toBe(true);
  });
});
