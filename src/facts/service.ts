/**
 * The service fact: which init system runs (systemd when /run/systemd/system
 * exists, else SysV), whether a service runs and whether it starts at boot.
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef, SBIN_PATH } from './types.js';

export interface ServiceState {
  init: 'systemd' | 'sysv';
  running: boolean;
  /** systemd: `systemctl is-enabled` said enabled (or static/indirect/generated: not ours to change). SysV: an S link in rc2-5.d. */
  enabled: boolean;
  /** systemctl is-enabled's word, e.g. "enabled", "disabled", "static" ("unknown" when it gave none); "links" for SysV. */
  enabledDetail: string;
  /** SysV with a `pattern`: whether a process in `ps auxww` matches it (Ansible's check_ps), which then decides `running`. */
  patternFound?: boolean;
}

export interface ServiceParams {
  name: string;
  /** Ansible's `pattern`: a process list substring that tells whether a SysV service runs. */
  pattern?: string;
}

/**
 * Prints `init systemd|sysv|none`, `running RC` (0 = running) and
 * `enabled WORD` (systemd: is-enabled's answer; SysV: the number of S links in
 * /etc/rc?.d, the links Ansible looks for), and with a pattern `pattern 0|1`.
 */
export const serviceStatus: Fact<ServiceParams, ServiceState> = {
  name: 'service',
  summary: 'init system, running and enabled-at-boot state of a service',
  probe: ({ name, pattern }) =>
    [
      SBIN_PATH,
      `n=${quote(name)}`,
      'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then',
      '  echo "init systemd"',
      '  systemctl is-active --quiet -- "$n" </dev/null >/dev/null 2>&1; echo "running $?"',
      '  e=$(systemctl is-enabled -- "$n" </dev/null 2>/dev/null); echo "enabled ${e:-unknown}"',
      'elif [ -x "/etc/init.d/$n" ]; then',
      '  echo "init sysv"',
      // `service` when present (it sets a clean environment), else the script itself. Exit 0 = running (LSB).
      '  if command -v service >/dev/null 2>&1; then service "$n" status </dev/null >/dev/null 2>&1; else "/etc/init.d/$n" status </dev/null >/dev/null 2>&1; fi',
      '  echo "running $?"',
      '  c=0; for l in /etc/rc?.d/S??"$n"; do [ -e "$l" ] && c=$((c+1)); done; echo "enabled $c"',
      ...(pattern === undefined ? [] : patternProbe(pattern)),
      'else',
      '  echo "init none"',
      'fi',
    ].join('\n'),
  parse({ name, pattern }, { stdout }) {
    const fields = new Map<string, string>();
    for (const line of stdout.split('\n')) {
      const m = /^(init|running|enabled|pattern) (.*)$/.exec(line);
      if (m) fields.set(m[1], m[2]);
    }
    const init = fields.get('init');
    if (init === 'none') return { known: false, reason: `service ${name} not found (no systemd unit or /etc/init.d script; not installed yet?)` };
    if ((init !== 'systemd' && init !== 'sysv') || !fields.has('running') || !fields.has('enabled')) {
      return { known: false, reason: `unexpected probe output for service ${name}: ${JSON.stringify(stdout.slice(0, 80))}` };
    }
    const word = fields.get('enabled') as string;
    const enabled = init === 'systemd' ? ['enabled', 'enabled-runtime', 'alias', 'static', 'indirect', 'generated'].includes(word) : Number(word) > 0;
    const state: ServiceState = { init, running: fields.get('running') === '0', enabled, enabledDetail: init === 'sysv' ? 'links' : word };
    if (init === 'sysv' && pattern !== undefined) {
      if (!fields.has('pattern')) return { known: false, reason: `unexpected probe output for service ${name}: no pattern line` };
      state.patternFound = fields.get('pattern') === '1';
    }
    return { known: true, state };
  },
};

/**
 * Whether a process matches `pattern`, as Ansible's check_ps: a substring of a `ps auxww` line.
 * The pattern reaches awk through the environment, base64-encoded in the script, so no process
 * of the probe itself (whose command line holds the script) can match it.
 */
function patternProbe(pattern: string): string[] {
  const encoded = Buffer.from(pattern, 'utf8').toString('base64');
  return [
    `  P=$(printf %s ${quote(encoded)} | base64 -d) && export P`,
    '  if ps auxww 2>/dev/null | awk \'index($0, ENVIRON["P"]) && !index($0, "pattern=") { f = 1 } END { exit !f }\'; then echo "pattern 1"; else echo "pattern 0"; fi',
  ];
}

export const serviceStatusOf = (name: string, pattern?: string): FactRef<ServiceState> => fact(serviceStatus, pattern === undefined ? { name } : { name, pattern });
