/**
 * A saved plan made with `-e @FILE` where FILE is encrypted with the real
 * ansible-vault: the plan holds neither the value nor anything decrypted, yet
 * `apply PLAN.json` applies it exactly (the file is read again with the vault
 * password), and a changed vault value makes the plan stale before anything runs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../in-process.js';
import { encryptFiles, runVaultOracle, vaultDir, type Password } from '../vault-oracle.js';

const password: Password = { label: 'default', password: 'plan-extra-pass', fileText: 'plan-extra-pass\n' };

describe.skipIf(!runVaultOracle)('saved plan with -e @vault file', { timeout: 60_000 }, () => {
  it('applies exactly without storing the secret; a changed vault value is stale', async () => {
    const d = vaultDir([password]);
    const secret = 'extra-vault-secret-93kq';
    const extra = join(d, 'extra.vault.yml');
    const writeExtra = (value: string) => {
      writeFileSync(extra, `db_password: ${value}\n`);
      encryptFiles(d, password, [extra]);
    };
    writeExtra(secret);
    writeFileSync(join(d, 'inventory.yml'), 'all:\n  hosts:\n    here: { connection: local }\n');
    const target = join(d, 'out.conf');
    writeFileSync(join(d, 'site.yml'), `- hosts: all\n  tasks:\n    - copy: { dest: ${target}, content: "password={{ db_password }} level={{ level }}\\n", mode: "0600" }\n`);
    const env = { PATH: process.env.PATH, HOME: d, PLUMB_STATE_DIR: join(d, 'state') };
    const vault = ['--vault-password-file', join(d, 'default.pass')];
    const saved = join(d, 'plan.json');

    const plan = await runCli(['plan', join(d, 'site.yml'), '-i', join(d, 'inventory.yml'), '-e', `@${extra}`, '-e', 'level=3', ...vault, '-o', saved], env);
    expect(plan.code, plan.stderr).toBe(2);
    const text = readFileSync(saved, 'utf8');
    expect(text).not.toContain(secret);
    expect(JSON.parse(text).command).toMatchObject({ extra_vars: {}, extra_args: [`@${extra}`, 'level=3'] });

    const apply = await runCli(['apply', saved, ...vault], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout + apply.stderr).not.toContain(secret);
    expect(readFileSync(target, 'utf8')).toBe(`password=${secret} level=3\n`);

    // A new plan, then the vault value changes: refused before anything is contacted.
    const again = await runCli(['plan', join(d, 'site.yml'), '-i', join(d, 'inventory.yml'), '-e', `@${extra}`, '-e', 'level=4', ...vault, '-o', saved], env);
    expect(again.code, again.stderr).toBe(2);
    writeExtra('a-different-secret-value');
    const stale = await runCli(['apply', saved, ...vault], env);
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain(`the plan is stale: ${extra} changed since it was made`);
    expect(readFileSync(target, 'utf8')).toBe(`password=${secret} level=3\n`);
    expect(existsSync(saved)).toBe(true);
  });
});
