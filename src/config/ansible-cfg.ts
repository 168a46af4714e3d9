/**
 * ansible.cfg, found as Ansible 2.14 finds it — the first that exists of
 * $ANSIBLE_CONFIG (a file, or a directory holding ansible.cfg), ./ansible.cfg
 * (skipped when the current directory is world-writable, as Ansible does),
 * ~/.ansible.cfg, /etc/ansible/ansible.cfg — and read as Python's
 * configparser reads it (`key = value` or `key: value`, `#`/`;` comment lines,
 * `;` comments after whitespace, indented continuation lines). plumb reads
 * these `[defaults]` keys and nothing else:
 *   inventory         used when -i is not given (a comma-separated list)
 *   remote_user       login user for hosts whose inventory sets none
 *   private_key_file  identity file for hosts whose inventory sets none
 *   host_key_checking plumb checks host keys anyway; `False` earns a warning
 *   roles_path        role search directories (":"-separated), exposed for roles
 *   vault_password_file  a vault password file (or script), tried after --vault-password-file's
 *   vault_identity_list  LABEL@SOURCE vault ids (comma-separated), tried before --vault-id's
 * Relative paths are taken from the directory of the ansible.cfg, `~` and
 * $VARS are expanded, as Ansible does.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { DiagnosticList, type Diagnostic, type SourceTexts } from '../source/diagnostics.js';
import type { SourcePos } from '../source/pos.js';
import { LocalFileError, READ_LIMITS, readLimited } from '../local-file.js';

export interface AnsibleCfg {
  file: string;
  /** `[defaults] inventory`, each path resolved. */
  inventory?: string[];
  remoteUser?: string;
  privateKeyFile?: string;
  /** undefined when not set; plumb checks host keys whatever it says. */
  hostKeyChecking?: boolean;
  /** `[defaults] roles_path`, each path resolved, in order. */
  rolesPath: string[];
  /** `[defaults] vault_password_file`, resolved. */
  vaultPasswordFile?: string;
  /** `[defaults] vault_identity_list`: LABEL@SOURCE entries, as written. */
  vaultIdentityList?: string[];
  /** Where each [defaults] key was written, for messages. */
  positions: Map<string, SourcePos>;
}

export interface CfgLocation {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The system-wide file; tests point it elsewhere. */
  systemFile?: string;
}

/** The ansible.cfg Ansible would use, and a note when ./ansible.cfg was skipped. */
export function findAnsibleCfg({ env, cwd, systemFile = '/etc/ansible/ansible.cfg' }: CfgLocation): { file?: string; note?: string } {
  const candidates: string[] = [];
  let fromEnv: string | undefined;
  if (env.ANSIBLE_CONFIG !== undefined && env.ANSIBLE_CONFIG !== '') {
    const p = expandPath(env.ANSIBLE_CONFIG, cwd, env);
    fromEnv = isDir(p) ? join(p, 'ansible.cfg') : p;
    candidates.push(fromEnv);
  }
  let note: string | undefined;
  const local = join(cwd, 'ansible.cfg');
  try {
    if (statSync(cwd).mode & 0o002) {
      if (existsSync(local)) note = `${local} is not read: the current directory is world-writable (Ansible skips it too)`;
    } else {
      candidates.push(local);
    }
  } catch {
    // an unreadable current directory holds no config
  }
  candidates.push(join(env.HOME || homedir(), '.ansible.cfg'), systemFile);
  const file = candidates.find((c) => isFile(c));
  // Ansible stays quiet about a skipped ./ansible.cfg only when ANSIBLE_CONFIG chose the file.
  return { file, note: fromEnv !== undefined && file === fromEnv ? undefined : note };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `~`, `$VAR`/`${VAR}` expanded, then relative to `base` (Ansible's unfrackpath). */
function expandPath(p: string, base: string, env: NodeJS.ProcessEnv): string {
  let out = p.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? whole);
  if (out === '~' || out.startsWith('~/')) out = join(env.HOME || homedir(), out.slice(1));
  return isAbsolute(out) ? resolve(out) : resolve(base, out);
}

const TRUE = ['y', 'yes', 'on', '1', 'true', 't', '1.0'];
const FALSE = ['n', 'no', 'off', '0', 'false', 'f', '0.0'];

/** Read one ansible.cfg; problems go to `diags` (file:line:col). */
export function readAnsibleCfg(file: string, diags: DiagnosticList, env: NodeJS.ProcessEnv = process.env): AnsibleCfg | undefined {
  let text: string;
  try {
    text = readLimited(file, { limit: READ_LIMITS.sshConfig, what: 'ansible.cfg' }).toString('utf8');
  } catch (err) {
    if (!(err instanceof LocalFileError)) throw err;
    diags.error({ file, line: 1, column: 1 }, `cannot read ansible.cfg: ${err.reason}`);
    return undefined;
  }
  diags.sources.set(file, text);
  const sections = parseCfg(file, text, diags);
  const base = dirname(resolve(file));
  const d = sections.get('defaults') ?? new Map<string, { value: string; pos: SourcePos }>();
  const cfg: AnsibleCfg = { file, rolesPath: [], positions: new Map([...d].map(([k, v]) => [k, v.pos])) };
  const get = (k: string) => d.get(k)?.value;
  const inventory = get('inventory');
  if (inventory !== undefined && inventory.trim() !== '')
    cfg.inventory = inventory
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((p) => expandPath(p, base, env));
  const user = get('remote_user');
  if (user) cfg.remoteUser = user;
  const key = get('private_key_file');
  if (key) cfg.privateKeyFile = expandPath(key, base, env);
  const roles = get('roles_path');
  if (roles)
    cfg.rolesPath = roles
      .split(':')
      .filter(Boolean)
      .map((p) => expandPath(p, base, env));
  const vaultFile = get('vault_password_file');
  if (vaultFile) cfg.vaultPasswordFile = expandPath(vaultFile, base, env);
  const ids = get('vault_identity_list');
  if (ids)
    cfg.vaultIdentityList = ids
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const hkc = d.get('host_key_checking');
  if (hkc) {
    const v = hkc.value.trim().toLowerCase();
    cfg.hostKeyChecking = TRUE.includes(v);
    if (!TRUE.includes(v) && !FALSE.includes(v)) diags.warning(hkc.pos, `host_key_checking = ${hkc.value}: Ansible reads anything but true/yes/on/1 as false`);
    if (!cfg.hostKeyChecking) {
      diags.warning(
        hkc.pos,
        'host_key_checking is off here, but plumb always checks host keys: an unknown or changed key stops the connection (record first-seen keys with --accept-new-host-keys)',
      );
    }
  }
  return cfg;
}

/** configparser's INI: sections of options; duplicate sections or options are errors, as in Python's strict mode. */
function parseCfg(file: string, text: string, diags: DiagnosticList): Map<string, Map<string, { value: string; pos: SourcePos }>> {
  const sections = new Map<string, Map<string, { value: string; pos: SourcePos }>>();
  let current: Map<string, { value: string; pos: SourcePos }> | undefined;
  let last: { value: string; pos: SourcePos } | undefined;
  let lastIndent = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      if (trimmed === '') last = undefined;
      return;
    }
    const value = stripInlineComment(trimmed);
    if (last && indent > lastIndent) {
      last.value += `\n${value}`;
      return;
    }
    const section = /^\[(.+)\]$/.exec(value);
    if (section && indent === 0) {
      const name = section[1];
      if (sections.has(name)) diags.error({ file, line, column: 2, length: name.length }, `section [${name}] appears twice; Ansible refuses such a file`);
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      last = undefined;
      return;
    }
    const at = { file, line, column: indent + 1 };
    if (!current) {
      diags.error({ ...at, length: trimmed.length }, 'a setting before any [section]: ansible.cfg settings go under [defaults]');
      return;
    }
    const m = /^([^=:]*?)\s*[=:]\s*(.*)$/.exec(value);
    if (!m || m[1] === '') {
      diags.error({ ...at, length: trimmed.length }, `expected "key = value", found ${JSON.stringify(trimmed)}`);
      return;
    }
    const key = m[1].toLowerCase();
    if (current.has(key)) diags.error({ ...at, length: key.length }, `"${key}" is set twice in this section; Ansible refuses such a file`);
    last = { value: m[2], pos: at };
    lastIndent = indent;
    current.set(key, last);
  });
  return sections;
}

/** configparser's inline comments: `;` after whitespace (Ansible does not enable `#` there). */
function stripInlineComment(s: string): string {
  const m = /\s;/.exec(s);
  return m ? s.slice(0, m.index).trimEnd() : s;
}

export interface LoadedCfg {
  cfg?: AnsibleCfg;
  /** Warnings about it (errors throw); shown with the project's. */
  warnings: Diagnostic[];
  sources: SourceTexts;
}

/** Find and read the ansible.cfg Ansible would use; a broken one throws ValidationFailed. */
export function loadAnsibleCfg(location: CfgLocation): LoadedCfg {
  const diags = new DiagnosticList();
  const { file, note } = findAnsibleCfg(location);
  if (note) diags.warning({ file: join(location.cwd, 'ansible.cfg'), line: 1, column: 1 }, note);
  const cfg = file ? readAnsibleCfg(file, diags, location.env) : undefined;
  diags.throwIfErrors();
  return { cfg, warnings: diags.sorted(), sources: diags.sources };
}
