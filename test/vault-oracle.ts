/**
 * Vault data made by the real `ansible-vault` (ansible-core) at test time, so
 * plumb's decryption is checked against the reference encryptor, never against
 * itself. Each ansible-vault start costs ~0.3-1.5 s: every file of one
 * password goes through one call, every inline value of one password through one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether the oracle is installed. CI must have it: tests fail there instead of skipping. */
export const haveAnsibleVault = spawnSync('ansible-vault', ['--version'], { stdio: 'ignore' }).status === 0;
export const runVaultOracle = haveAnsibleVault || process.env.CI === 'true';

export interface Password {
  /** The vault id label (`default` encrypts as format 1.1, any other as 1.2). */
  label: string;
  /** The password as Ansible reads it from the file (file text minus surrounding whitespace). */
  password: string;
  /** What the password file holds (may add whitespace Ansible strips). */
  fileText: string;
}

/** A directory with one password file per password: `<label>.pass`. */
export function vaultDir(passwords: Password[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'plumb-vault-'));
  for (const p of passwords) writeFileSync(join(dir, `${p.label}.pass`), p.fileText, { mode: 0o600 });
  return dir;
}

/** Only what ansible-vault needs: no ANSIBLE_VAULT_* from the caller's environment changes the result. */
function vaultEnv(dir: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: dir, ANSIBLE_LOCAL_TEMP: join(dir, '.ansible-tmp'), ANSIBLE_NOCOLOR: '1' };
}

function idArgs(dir: string, p: Password): string[] {
  const file = join(dir, `${p.label}.pass`);
  return p.label === 'default' ? ['--vault-password-file', file] : ['--vault-id', `${p.label}@${file}`];
}

/** Encrypt files in place (their current content is the plaintext), all with one password. */
export function encryptFiles(dir: string, p: Password, files: string[]): void {
  if (!files.length) return;
  execFileSync('ansible-vault', ['encrypt', ...idArgs(dir, p), ...files], { env: vaultEnv(dir), stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `NAME: !vault |` YAML for each value, all with one password (one ansible-vault call). */
export function encryptStrings(dir: string, p: Password, values: Record<string, string>): string {
  const names = Object.keys(values);
  if (!names.length) return '';
  const args = ['encrypt_string', ...idArgs(dir, p), ...names.flatMap((n) => ['--name', n]), '--', ...names.map((n) => values[n])];
  return execFileSync('ansible-vault', args, { env: vaultEnv(dir), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) + '\n';
}
