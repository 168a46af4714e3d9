/**
 * Connection settings from inventory variables. plumb's own names (`host`,
 * `port`, `user`, `identity_file`, `jump`, `connection`) and Ansible's
 * (`ansible_host`, `ansible_port`, `ansible_user`,
 * `ansible_ssh_private_key_file`, `-J`/ProxyJump in
 * `ansible_ssh_common_args`, `ansible_connection`) mean the same; whichever
 * was set at the higher precedence wins. Ansible variables plumb cannot
 * honour get a warning where they are written, never silence.
 */
import type { DiagnosticList } from '../source/diagnostics.js';
import type { SourcePos } from '../source/pos.js';
import { isVariableName } from '../source/names.js';
import { zodMessage } from '../source/issues.js';
import type { Connection } from './model.js';
import { connectionKeyNames, connectionKeys, type ConnectionKey } from './schema.js';

/** Every spelling of each connection key; the plumb name first. */
export const connectionAliases: Record<ConnectionKey, readonly string[]> = {
  host: ['host', 'ansible_host', 'ansible_ssh_host'],
  port: ['port', 'ansible_port', 'ansible_ssh_port'],
  user: ['user', 'ansible_user', 'ansible_ssh_user'],
  identity_file: ['identity_file', 'ansible_ssh_private_key_file', 'ansible_private_key_file'],
  jump: ['jump'],
  become_password_env: ['become_password_env'],
  connection: ['connection', 'ansible_connection'],
};

const aliasOf = new Map<string, ConnectionKey>(connectionKeyNames.flatMap((k) => connectionAliases[k].map((a) => [a, k] as const)));

/** Ansible's ssh option variables: plumb reads a jump host from them and warns about the rest. */
const SSH_ARG_VARS = ['ansible_ssh_common_args', 'ansible_ssh_extra_args'];

/** Variables whose value is a password: never shown (masked in `plumb inventory` and in error excerpts). */
export const passwordVariables: ReadonlySet<string> = new Set([
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_ssh_password',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_sudo_pass',
]);

const BECOME = 'plumb takes become from the play or task (`become: true`, `become_user:`); this inventory variable is not read';
const NOT_NEEDED = 'plumb runs no Python and no ssh binary on either side; this variable is not needed and not read';

/** Ansible variables plumb does not follow, and what to do instead. */
const unsupported: Record<string, string> = {
  ansible_password: 'plumb logs in with SSH keys only (identity_file / ansible_ssh_private_key_file or ssh-agent); this password is not used',
  ansible_ssh_pass: 'plumb logs in with SSH keys only (identity_file / ansible_ssh_private_key_file or ssh-agent); this password is not used',
  ansible_ssh_password: 'plumb logs in with SSH keys only (identity_file / ansible_ssh_private_key_file or ssh-agent); this password is not used',
  ansible_become_password: 'plumb reads the sudo password from an environment variable: set `become_password_env: VAR` (or run with -K); this password is not used',
  ansible_become_pass: 'plumb reads the sudo password from an environment variable: set `become_password_env: VAR` (or run with -K); this password is not used',
  ansible_sudo_pass: 'plumb reads the sudo password from an environment variable: set `become_password_env: VAR` (or run with -K); this password is not used',
  ansible_become: BECOME,
  ansible_become_user: BECOME,
  ansible_become_method: BECOME,
  ansible_become_exe: BECOME,
  ansible_become_flags: BECOME,
  ansible_python_interpreter: NOT_NEEDED,
  ansible_shell_type: NOT_NEEDED,
  ansible_shell_executable: NOT_NEEDED,
  ansible_ssh_executable: NOT_NEEDED,
  ansible_ssh_pipelining: NOT_NEEDED,
  ansible_pipelining: NOT_NEEDED,
  ansible_ssh_transfer_method: NOT_NEEDED,
  ansible_scp_extra_args: NOT_NEEDED,
  ansible_sftp_extra_args: NOT_NEEDED,
  ansible_ssh_args: 'plumb does not pass options to an ssh binary; use ~/.ssh/config (plumb reads Host, HostName, User, Port, IdentityFile, ProxyJump, ConnectTimeout) or `jump:`',
  ansible_timeout: 'plumb has one connect timeout for the run: --connect-timeout S (or ConnectTimeout in ~/.ssh/config)',
  ansible_ssh_timeout: 'plumb has one connect timeout for the run: --connect-timeout S (or ConnectTimeout in ~/.ssh/config)',
  ansible_host_key_checking: 'plumb always checks host keys; this setting is not followed (use --accept-new-host-keys to record first-seen keys)',
  ansible_ssh_host_key_checking: 'plumb always checks host keys; this setting is not followed (use --accept-new-host-keys to record first-seen keys)',
};

/** ansible_connection values plumb can follow, as plumb's `connection`. */
const ansibleConnections: Record<string, 'ssh' | 'local'> = {
  ssh: 'ssh',
  smart: 'ssh',
  paramiko: 'ssh',
  'ansible.builtin.ssh': 'ssh',
  local: 'local',
  'ansible.builtin.local': 'local',
};

/** A merge that remembers which spelling of each connection key was set last. */
export class VarsMerge {
  readonly vars: Record<string, unknown> = {};
  private readonly last = new Map<ConnectionKey, string>();

  add(layer: Record<string, unknown> | undefined): void {
    if (!layer) return;
    for (const [k, v] of Object.entries(layer)) {
      this.vars[k] = v;
      const key = aliasOf.get(k) ?? (SSH_ARG_VARS.includes(k) ? 'jump' : undefined);
      if (key && v !== null && v !== undefined) this.last.set(key, k);
    }
  }

  connection(): Connection {
    const c: Record<string, unknown> = {};
    for (const key of connectionKeyNames) {
      const name = this.last.get(key);
      if (name === undefined) continue;
      const value = connectionValue(key, name, this.vars[name]);
      if (value !== undefined) c[key] = value;
    }
    return c as Connection;
  }
}

function connectionValue(key: ConnectionKey, name: string, value: unknown): unknown {
  if (SSH_ARG_VARS.includes(name)) return typeof value === 'string' ? sshArgs(value).jump : undefined;
  if (key === 'port' && typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  if (key === 'connection' && name !== 'connection' && typeof value === 'string') return ansibleConnections[value];
  return value;
}

/** What plumb reads from `ansible_ssh_common_args`: a jump host; the rest is reported. */
export function sshArgs(text: string): { jump?: string; ignored: string[]; strictOff: boolean; knownHostsFile?: string } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const out: { jump?: string; ignored: string[]; strictOff: boolean; knownHostsFile?: string } = { ignored: [], strictOff: false };
  for (let i = 0; i < words.length; i++) {
    const w = words[i].replace(/^['"]|['"]$/g, '');
    if (w === '-J' && words[i + 1]) out.jump = words[++i];
    else if (w.startsWith('-J') && w.length > 2) out.jump = w.slice(2);
    else if (w === '-o' && words[i + 1]) option(words[++i].replace(/^['"]|['"]$/g, ''), out);
    else if (w.startsWith('-o') && w.length > 2) option(w.slice(2), out);
    else out.ignored.push(w);
  }
  return out;
}

function option(opt: string, out: { jump?: string; ignored: string[]; strictOff: boolean; knownHostsFile?: string }): void {
  const m = /^([A-Za-z]+)\s*[= ]\s*(.*)$/.exec(opt);
  const name = m?.[1].toLowerCase();
  const value = m?.[2] ?? '';
  if (name === 'proxyjump') out.jump = value;
  else if (name === 'stricthostkeychecking') out.strictOff = !/^(yes|ask)$/i.test(value);
  else if (name === 'userknownhostsfile') out.knownHostsFile = value;
  else out.ignored.push(`-o ${opt}`);
}

/**
 * Check one inventory variable where it is written: its name, the type of a
 * connection setting, and a warning for Ansible variables plumb does not follow.
 * `hide` masks a password's value in the source kept for error excerpts.
 */
export function checkVariable(
  name: string,
  value: unknown,
  at: { name: SourcePos & { length?: number }; value: SourcePos & { length?: number }; path?: string },
  diags: DiagnosticList,
  hide: () => void,
): boolean {
  if (!isVariableName(name)) {
    diags.error(at.name, `invalid variable name "${name}": use letters, digits and _, not starting with a digit`, at.path);
    return false;
  }
  if (passwordVariables.has(name)) hide();
  if (Object.hasOwn(unsupported, name)) {
    diags.warning(at.name, `${name}: ${unsupported[name]}`, at.path);
    return true;
  }
  if (SSH_ARG_VARS.includes(name)) {
    if (typeof value !== 'string') return true;
    const a = sshArgs(value);
    if (a.strictOff)
      diags.warning(at.value, `${name}: plumb always checks host keys; StrictHostKeyChecking here is not followed (use --accept-new-host-keys to record first-seen keys)`, at.path);
    if (a.knownHostsFile) diags.warning(at.value, `${name}: plumb does not read UserKnownHostsFile from here; pass --known-hosts ${a.knownHostsFile}`, at.path);
    if (a.ignored.length)
      diags.warning(at.value, `${name}: plumb reads only -J / ProxyJump from ssh options; ignored: ${a.ignored.join(' ')} (use ~/.ssh/config for the rest)`, at.path);
    return true;
  }
  const key = aliasOf.get(name);
  if (!key || value === null || value === undefined) return true;
  const checked = connectionValue(key, name, value);
  if (key === 'connection' && name !== 'connection' && checked === undefined) {
    diags.error(at.value, `${name}: plumb connects over ssh or local only, found ${JSON.stringify(value)}`, at.path);
    return false;
  }
  const r = connectionKeys[key].safeParse(checked);
  if (!r.success) {
    diags.error(at.value, `${name === key ? '' : `${name} (plumb's "${key}"): `}${zodMessage(r.error.issues[0], value, [])}`, at.path);
    return false;
  }
  return true;
}
