/**
 * Vault passwords from the command line, as Ansible takes them:
 * `--vault-id [LABEL@]FILE|prompt` (repeatable), `--vault-password-file FILE`
 * (repeatable), `--ask-vault-pass`; plus, as Ansible adds them whatever the
 * command line says, the identities of $ANSIBLE_VAULT_IDENTITY_LIST (else
 * ansible.cfg's vault_identity_list) first and the file of
 * $ANSIBLE_VAULT_PASSWORD_FILE (else ansible.cfg's vault_password_file) last. A
 * password file that is executable is run (no shell, no arguments — or
 * `--vault-id LABEL` for a `*-client` script) and its standard output is the
 * password, as in Ansible. No password is ever printed.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { LocalFileError, READ_LIMITS, readLimited } from '../local-file.js';
import { PlumbError } from '../errors.js';
import { VaultContext, type VaultSecret } from '../source/vault.js';
import type { AnsibleCfg } from '../config/ansible-cfg.js';
import type { Io } from './command.js';

export interface VaultOptions {
  vaultIds: string[];
  vaultPasswordFiles: string[];
  askVaultPass: boolean;
}

const DEFAULT_LABEL = 'default';
/** A password script that needs longer is waiting for something that will not come (a prompt nobody sees). */
const SCRIPT_TIMEOUT_MS = 60_000;

/** What ansible.cfg says about vault passwords. */
export type VaultCfg = Pick<AnsibleCfg, 'vaultPasswordFile' | 'vaultIdentityList'>;

/** The passwords the options name, read now (files, scripts, prompts), for one load. */
export async function vaultContext(o: VaultOptions, io: Io, lenient = false, cfg?: VaultCfg): Promise<VaultContext> {
  const secrets: VaultSecret[] = [];
  const envIds = io.env.ANSIBLE_VAULT_IDENTITY_LIST?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const defaultIds = envIds?.length ? envIds : (cfg?.vaultIdentityList ?? []);
  for (const id of [...defaultIds, ...o.vaultIds]) {
    const at = id.indexOf('@');
    const [label, source] = at >= 0 ? [id.slice(0, at) || DEFAULT_LABEL, id.slice(at + 1)] : [DEFAULT_LABEL, id];
    if (!source) throw new PlumbError(`--vault-id ${JSON.stringify(id)}: expected [LABEL@]FILE or [LABEL@]prompt`);
    secrets.push(source === 'prompt' ? await ask(io, label) : fromFile(source, label, io.env));
  }
  const defaultFile = io.env.ANSIBLE_VAULT_PASSWORD_FILE || cfg?.vaultPasswordFile;
  const files = [...o.vaultPasswordFiles, ...(defaultFile && !o.vaultPasswordFiles.includes(defaultFile) ? [defaultFile] : [])];
  for (const f of files) secrets.push(fromFile(f, DEFAULT_LABEL, io.env));
  if (o.askVaultPass) secrets.push(await ask(io, DEFAULT_LABEL));
  return new VaultContext(secrets, lenient);
}

async function ask(io: Io, label: string): Promise<VaultSecret> {
  const question = label === DEFAULT_LABEL ? 'Vault password: ' : `Vault password (${label}): `;
  // A CI job has nobody to answer; waiting would only end in its timeout.
  if (io.env.CI) throw new PlumbError(`cannot ask "${question.trim()}": CI is set, so nobody can answer; use --vault-password-file FILE or --vault-id ${label}@FILE`);
  if (!io.prompt) throw new PlumbError(`cannot ask "${question.trim()}": no terminal; use --vault-password-file FILE or --vault-id ${label}@FILE`);
  const answer = (await io.prompt(question)).trim();
  if (!answer) throw new PlumbError(`the vault password${label === DEFAULT_LABEL ? '' : ` for vault id "${label}"`} is empty`);
  return { label, password: Buffer.from(answer, 'utf8'), source: 'the prompt' };
}

function fromFile(path: string, label: string, env: NodeJS.ProcessEnv): VaultSecret {
  const what = `vault password file ${path}`;
  let password: Buffer;
  if (isExecutableFile(path)) {
    password = trimNewlines(runScript(path, label, env));
  } else {
    try {
      password = trimNewlines(trimSpace(readLimited(path, { limit: READ_LIMITS.vaultPassword, what: 'vault password file' })));
    } catch (err) {
      if (err instanceof LocalFileError) throw new PlumbError(`cannot read ${what}: ${err.reason}`);
      throw err;
    }
  }
  if (!password.length) throw new PlumbError(`${what} gave an empty password`);
  return { label, password, source: what };
}

function isExecutableFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false; // reading it reports why
  }
}

/** Run a password script; its stdout is the password. What it prints to stderr is not shown: it may be the password. */
function runScript(path: string, label: string, env: NodeJS.ProcessEnv): Buffer {
  const client = /-client$/.test(basename(path).replace(/\.[^.]*$/, ''));
  try {
    return execFileSync(path, client ? ['--vault-id', label] : [], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: SCRIPT_TIMEOUT_MS,
      maxBuffer: READ_LIMITS.vaultPassword,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number | null; signal?: string | null };
    const why =
      e.code === 'ENOBUFS'
        ? `it printed more than ${READ_LIMITS.vaultPassword} bytes`
        : e.signal
          ? `it was ended by ${e.signal}${e.signal === 'SIGTERM' ? ` (it ran longer than ${SCRIPT_TIMEOUT_MS / 1000} s)` : ''}`
          : e.status !== undefined && e.status !== null
            ? `it exited with status ${e.status}`
            : (e.code ?? 'it could not be run');
    throw new PlumbError(`vault password script ${path} failed: ${why}`);
  }
}

/** As Ansible reads a password file: surrounding whitespace is not part of the password. */
function trimSpace(b: Buffer): Buffer {
  const space = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
  let [start, end] = [0, b.length];
  while (start < end && space(b[start])) start++;
  while (end > start && space(b[end - 1])) end--;
  return b.subarray(start, end);
}

function trimNewlines(b: Buffer): Buffer {
  const nl = (c: number) => c === 0x0a || c === 0x0d;
  let [start, end] = [0, b.length];
  while (start < end && nl(b[start])) start++;
  while (end > start && nl(b[end - 1])) end--;
  return b.subarray(start, end);
}
