/**
 * System facts for the services-and-settings modules (issue 15): a systemd unit's state, a
 * kernel parameter's value, the host name, and the time zone. Each says whether systemd runs
 * on the host (/run/systemd/system, as sd_booted and Ansible decide), because the modules
 * drive the systemd tools there and the plain files elsewhere. Text from the host is
 * base64-encoded where a newline in it could forge a line of the output.
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef, type Probed, SBIN_PATH } from './types.js';

const SYSTEMD_TEST = '[ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1';

/** `key value` lines → a map (the first word is the key, the rest of the line its value). */
function fields(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([A-Za-z]+) ?(.*)$/.exec(line);
    if (m && !out.has(m[1])) out.set(m[1], m[2]);
  }
  return out;
}

function decoded(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9+/=]*$/.test(value)) throw new Error(`not base64: ${JSON.stringify(value.slice(0, 40))}`);
  return Buffer.from(value, 'base64').toString('utf8');
}

/** The `systemd yes|no` line; undefined when it is missing (the output is not the probe's). */
function systemdOf(f: Map<string, string>): boolean | undefined {
  const s = f.get('systemd');
  return s === 'yes' ? true : s === 'no' ? false : undefined;
}

// ---------------------------------------------------------------- systemd unit

export type SystemdScope = 'system' | 'user';

export interface SystemdUnitParams {
  /** null: only whether systemd runs (daemon_reload alone). */
  name: string | null;
  scope: SystemdScope;
}

export interface SystemdUnitState {
  systemd: boolean;
  /** `systemctl show`'s LoadState (loaded, not-found, masked, ...). */
  loadState?: string;
  /** ActiveState (active, inactive, activating, deactivating, failed). */
  activeState?: string;
  unitFileState?: string;
  /** `systemctl is-enabled`'s exit code and words (Ansible decides "enabled" by the code). */
  isEnabledCode?: number;
  isEnabled?: string;
  /** An /etc/init.d script of that name exists. */
  initScript?: boolean;
  /** S links for it in /etc/rc?.d. */
  sysvLinks?: number;
}

/** systemctl with the scope's switch; a user scope needs the user's runtime directory, as Ansible sets it. */
export function systemctlPrefix(scope: SystemdScope): string {
  return scope === 'user' ? 'XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" systemctl --user' : 'systemctl';
}

export const systemdUnit: Fact<SystemdUnitParams, SystemdUnitState> = {
  name: 'systemd-unit',
  summary: "whether systemd runs, and a unit's load, active and unit-file state (systemctl show, is-enabled)",
  probe: ({ name, scope }) => {
    const lines = [SBIN_PATH, `if ${SYSTEMD_TEST}; then`, '  echo "systemd yes"'];
    if (name !== null) {
      const sc = systemctlPrefix(scope);
      lines.push(
        `  n=${quote(name)}`,
        `  ${sc} show -p LoadState,ActiveState,UnitFileState -- "$n" </dev/null 2>/dev/null | sed 's/=/ /'`,
        `  e=$(${sc} is-enabled -- "$n" </dev/null 2>/dev/null); r=$?; printf 'IsEnabled %s %s\\n' "$r" "$(printf %s "$e" | tr '\\n' ' ')"`,
        '  [ -f "/etc/init.d/$n" ] && echo "InitScript yes"',
        '  c=0; for l in /etc/rc?.d/S??"$n"; do [ -e "$l" ] && c=$((c+1)); done; echo "SysvLinks $c"',
      );
    }
    lines.push('else', '  echo "systemd no"', 'fi');
    return lines.join('\n');
  },
  parse({ name }, { stdout }): Probed<SystemdUnitState> {
    const f = fields(stdout);
    const systemd = systemdOf(f);
    if (systemd === undefined) return { known: false, reason: `unexpected probe output for systemd unit ${name ?? ''}` };
    if (!systemd || name === null) return { known: true, state: { systemd } };
    const enabled = /^(\d+) ?(.*)$/.exec(f.get('IsEnabled') ?? '');
    if (!enabled || !f.has('SysvLinks')) return { known: false, reason: `unexpected probe output for systemd unit ${name}: ${JSON.stringify(stdout.slice(0, 80))}` };
    const state: SystemdUnitState = {
      systemd,
      isEnabledCode: Number(enabled[1]),
      isEnabled: enabled[2].trim(),
      initScript: f.get('InitScript') === 'yes',
      sysvLinks: Number(f.get('SysvLinks')),
    };
    if (f.has('LoadState')) state.loadState = f.get('LoadState');
    if (f.has('ActiveState')) state.activeState = f.get('ActiveState');
    if (f.has('UnitFileState')) state.unitFileState = f.get('UnitFileState');
    return { known: true, state };
  },
};

export const systemdUnitOf = (params: SystemdUnitParams): FactRef<SystemdUnitState> => fact(systemdUnit, params);

// ---------------------------------------------------------------- sysctl

export interface SysctlValue {
  /** `sysctl -e -n NAME`'s exit code; Ansible takes a non-zero code as "no current value". */
  code: number;
  /** Its output, verbatim (Ansible compares it word by word). */
  value: string;
}

export const sysctlValue: Fact<{ name: string }, SysctlValue> = {
  name: 'sysctl-value',
  summary: "a kernel parameter's current value (sysctl -e -n, as Ansible's sysctl reads it)",
  probe: ({ name }) =>
    [SBIN_PATH, `v=$(LC_ALL=C sysctl -e -n -- ${quote(name)} 2>/dev/null); r=$?`, 'echo "code $r"', 'printf \'value \'; printf %s "$v" | base64 -w 0; echo'].join('\n'),
  parse({ name }, { stdout }) {
    const f = fields(stdout);
    const code = f.get('code');
    if (code === undefined || !/^\d+$/.test(code) || !f.has('value')) return { known: false, reason: `unexpected probe output for sysctl ${name}` };
    return { known: true, state: { code: Number(code), value: decoded(f.get('value')) ?? '' } };
  },
};

export const sysctlValueOf = (name: string): FactRef<SysctlValue> => fact(sysctlValue, { name });

// ---------------------------------------------------------------- hostname

export interface HostnameState {
  systemd: boolean;
  /** What `hostname` prints: the running (transient) name. */
  current: string;
}

export const hostnameState: Fact<Record<string, never>, HostnameState> = {
  name: 'hostname',
  summary: 'the running host name, and whether systemd runs',
  probe: () =>
    [
      SBIN_PATH,
      `if ${SYSTEMD_TEST}; then echo "systemd yes"; else echo "systemd no"; fi`,
      'printf \'current \'; { hostname 2>/dev/null || uname -n; } | tr -d "\\n" | base64 -w 0; echo',
    ].join('\n'),
  parse(_params, { stdout }) {
    const f = fields(stdout);
    const systemd = systemdOf(f);
    if (systemd === undefined || !f.has('current')) return { known: false, reason: 'unexpected probe output for hostname' };
    return { known: true, state: { systemd, current: decoded(f.get('current')) ?? '' } };
  },
};

export const hostnameFact = (): FactRef<HostnameState> => fact(hostnameState, {});

// ---------------------------------------------------------------- timezone

export interface TimezoneState {
  systemd: boolean;
  /** /etc/localtime: a symlink (with its target, and whether it resolves), a file (equal to the zone's file or not), or absent. */
  localtime: { type: 'link'; target: string; resolves: boolean } | { type: 'file'; sameAsZone: boolean } | { type: 'absent' };
  /** /usr/share/zoneinfo/NAME is a regular file. */
  zoneExists: boolean;
  /** /usr/share/zoneinfo exists at all (tzdata installed). */
  zoneinfo: boolean;
  /** dpkg-reconfigure is there (Debian): Ansible reconfigures tzdata after the link. */
  reconfigure: boolean;
}

export const timezoneState: Fact<{ name: string }, TimezoneState> = {
  name: 'timezone',
  summary: 'the /etc/localtime link or file and whether the zone file exists, as Ansible reads them without systemd',
  probe: ({ name }) =>
    [
      SBIN_PATH,
      `z=/usr/share/zoneinfo/${quote(name)}`,
      `if ${SYSTEMD_TEST}; then echo "systemd yes"; else echo "systemd no"; fi`,
      'if [ -L /etc/localtime ]; then',
      "  printf 'link '; readlink -n /etc/localtime | base64 -w 0; echo",
      '  if [ -e /etc/localtime ]; then echo "resolves yes"; else echo "resolves no"; fi',
      'elif [ -e /etc/localtime ]; then',
      '  if cmp -s /etc/localtime "$z"; then echo "localfile same"; else echo "localfile differs"; fi',
      'fi',
      'if [ -f "$z" ]; then echo "zone yes"; else echo "zone no"; fi',
      'if [ -d /usr/share/zoneinfo ]; then echo "zoneinfo yes"; else echo "zoneinfo no"; fi',
      'if command -v dpkg-reconfigure >/dev/null 2>&1; then echo "reconfigure yes"; else echo "reconfigure no"; fi',
    ].join('\n'),
  parse({ name }, { stdout }) {
    const f = fields(stdout);
    const systemd = systemdOf(f);
    if (systemd === undefined || !f.has('zone') || !f.has('zoneinfo') || !f.has('reconfigure')) return { known: false, reason: `unexpected probe output for timezone ${name}` };
    let localtime: TimezoneState['localtime'] = { type: 'absent' };
    if (f.has('link')) localtime = { type: 'link', target: decoded(f.get('link')) ?? '', resolves: f.get('resolves') === 'yes' };
    else if (f.has('localfile')) localtime = { type: 'file', sameAsZone: f.get('localfile') === 'same' };
    return {
      known: true,
      state: { systemd, localtime, zoneExists: f.get('zone') === 'yes', zoneinfo: f.get('zoneinfo') === 'yes', reconfigure: f.get('reconfigure') === 'yes' },
    };
  },
};

export const timezoneFact = (name: string): FactRef<TimezoneState> => fact(timezoneState, { name });
