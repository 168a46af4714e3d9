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
}

/**
 * Prints `init systemd|sysv|none`, `running RC` (0 = running) and
 * `enabled WORD` (systemd: is-enabled's answer; SysV: the number of S links).
 */
export const serviceStatus: Fact<{ name: string }, ServiceState> = {
  name: 'service',
  summary: 'init system, running and enabled-at-boot state of a service',
  probe: ({ name }) =>
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
      '  c=0; for l in /etc/rc2.d/S??"$n" /etc/rc3.d/S??"$n" /etc/rc4.d/S??"$n" /etc/rc5.d/S??"$n"; do [ -e "$l" ] && c=$((c+1)); done; echo "enabled $c"',
      'else',
      '  echo "init none"',
      'fi',
    ].join('\n'),
  parse({ name }, { stdout }) {
    const fields = new Map<string, string>();
    for (const line of stdout.split('\n')) {
      const m = /^(init|running|enabled) (.*)$/.exec(line);
      if (m) fields.set(m[1], m[2]);
    }
    const init = fields.get('init');
    if (init === 'none') return { known: false, reason: `service ${name} not found (no systemd unit or /etc/init.d script; not installed yet?)` };
    if ((init !== 'systemd' && init !== 'sysv') || !fields.has('running') || !fields.has('enabled')) {
      return { known: false, reason: `unexpected probe output for service ${name}: ${JSON.stringify(stdout.slice(0, 80))}` };
    }
    const word = fields.get('enabled') as string;
    const enabled = init === 'systemd' ? ['enabled', 'enabled-runtime', 'alias', 'static', 'indirect', 'generated'].includes(word) : Number(word) > 0;
    return { known: true, state: { init, running: fields.get('running') === '0', enabled, enabledDetail: init === 'sysv' ? 'links' : word } };
  },
};

export const serviceStatusOf = (name: string): FactRef<ServiceState> => fact(serviceStatus, { name });
