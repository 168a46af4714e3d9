/**
 * -e in a saved plan. Values given on the command line are stored as they are;
 * but a `-e @FILE` holding Ansible Vault data (a whole encrypted file, or
 * `!vault` values) must never be stored decrypted. For such a plan the -e
 * arguments themselves are stored (each @FILE as an absolute path) with the
 * files' hashes among the plan's files: `apply PLAN.json` reads them again with
 * the vault passwords it is given, so it applies exactly what was planned, and
 * a changed file (a changed vault value) makes the plan stale before anything
 * is contacted.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { READ_LIMITS, readLimited } from '../local-file.js';
import { isVaultText } from '../source/vault.js';

export interface VaultExtraVars {
  /** The -e arguments, each @FILE made absolute. */
  args: string[];
  /** The -e files that hold vault data, hashed as read. */
  files: Array<{ path: string; sha256: string }>;
}

/** How to store `args` in a plan by reference, or undefined when none of its files holds vault data. */
export function vaultExtraVars(args: readonly string[]): VaultExtraVars | undefined {
  const files: VaultExtraVars['files'] = [];
  const stored = args.map((arg) => {
    if (!arg.startsWith('@')) return arg;
    const path = resolve(arg.slice(1));
    let bytes: Buffer;
    try {
      bytes = readLimited(path, { limit: READ_LIMITS.yaml, what: 'extra vars file' });
    } catch {
      return `@${path}`; // parseExtraVars has reported it already
    }
    const text = bytes.toString('utf8');
    if (isVaultText(text.replace(/^\uFEFF/, '')) || /!vault\b/.test(text)) files.push({ path, sha256: createHash('sha256').update(bytes).digest('hex') });
    return `@${path}`;
  });
  return files.length ? { args: stored, files } : undefined;
}
