/**
 * Every service on the host, as Ansible's service_facts lists them (ansible-core
 * 2.14): SysV scripts from `service --status-all` (when `service` exists and
 * neither chkconfig nor rc-status does), and, when PID 1 is systemd, every
 * service unit from `systemctl list-units` and `list-unit-files`. Both run on a
 * systemd Debian, as in Ansible, so `cron` (sysv) and `cron.service`
 * (systemd) are both listed. Read-only: `--status-all` runs each init script's
 * `status`, which is what Ansible runs too.
 */
import { section, sections } from './sections.js';
import { type Fact, SBIN_PATH } from './types.js';

export interface ServiceFact {
  name: string;
  state: string;
  /** systemd only: the unit's load/active word (active, inactive, failed, not-found, masked) or its unit-file state. */
  status?: string;
  source: 'sysv' | 'systemd';
}

export type Services = Record<string, ServiceFact>;

const MARK = '::plumb-services';
/** A long `--status-all` list is still small; a host cannot send more than this. */
const CAP = 1 << 20;

/** Ansible's: a unit in one of these has its status from the list-units line, not the unit file. */
const BAD_STATES = ['not-found', 'masked', 'failed'];

function servicesProbe(): string {
  return [
    SBIN_PATH,
    'export LC_ALL=C',
    section(MARK, 'sysv', 'command -v service >/dev/null && ! command -v chkconfig >/dev/null && ! command -v rc-status >/dev/null && service --status-all', CAP),
    // Ansible: systemd when /proc/1/comm mentions it and systemctl exists.
    'if grep -q systemd /proc/1/comm 2>/dev/null && command -v systemctl >/dev/null; then',
    section(MARK, 'units', 'systemctl list-units --no-pager --type service --all', CAP),
    section(MARK, 'unit-files', 'systemctl list-unit-files --no-pager --type service --all', CAP),
    // The ActiveState of every unit file in one call (Ansible asks per unit not in list-units);
    // a template (name@.service) has none, and Ansible's answer for it is "unknown" too.
    section(
      MARK,
      'show',
      `systemctl list-unit-files --no-pager --type service --all | awk '$1 ~ /\\.service$/ && $1 !~ /@\\.service$/ {printf "%s%c", $1, 0}' | xargs -0 -r systemctl show --property=Id --property=ActiveState --`,
      CAP,
    ),
    'fi',
    'true',
  ].join('\n');
}

/** `[ + ]  cron` → running, `[ - ]  exim4` → stopped; `[ ? ]` lines are left out, as Ansible does. */
function sysvServices(lines: string[], out: Services): void {
  for (const line of lines) {
    const m = /^\s*\[ ([+-]) \]\s+(.+)$/.exec(line);
    if (m) out[m[2]] = { name: m[2], state: m[1] === '+' ? 'running' : 'stopped', source: 'sysv' };
  }
}

/** `systemctl show` blocks: `Id=…` and `ActiveState=…`, separated by blank lines. */
function activeStates(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  let id: string | undefined;
  for (const line of lines) {
    if (line === '') id = undefined;
    else if (line.startsWith('Id=')) id = line.slice(3);
    else if (line.startsWith('ActiveState=') && id !== undefined) out.set(id, line.slice('ActiveState='.length));
  }
  return out;
}

/** service_facts' SystemctlScanService, line by line. */
function systemdServices(s: Map<string, string[]>, out: Services): void {
  for (const line of (s.get('units') ?? []).filter((l) => l.includes('.service'))) {
    let fields = line.trim().split(/\s+/);
    let status: string;
    const bad = BAD_STATES.find((b) => fields.includes(b));
    if (bad) {
      status = bad;
      // Such a line starts with a bullet (●): Ansible drops the first field.
      fields = fields.slice(1);
    } else status = fields[2] ?? 'unknown';
    const name = fields[0];
    if (!name) continue;
    out[name] = { name, state: fields[3] === 'running' ? 'running' : 'stopped', status, source: 'systemd' };
  }
  const states = activeStates(s.get('show') ?? []);
  for (const line of (s.get('unit-files') ?? []).filter((l) => l.includes('.service'))) {
    const [name, status] = line.trim().split(/\s+/);
    if (!name || status === undefined) continue;
    const listed = out[name];
    if (!listed || listed.source !== 'systemd') out[name] = { name, state: states.get(name) || 'unknown', status, source: 'systemd' };
    else if (!BAD_STATES.includes(listed.status ?? '')) listed.status = status;
  }
}

export const services: Fact<Record<string, never>, Services> = {
  name: 'services',
  summary: "every service and its state, as Ansible's service_facts lists them (service --status-all; systemctl when systemd runs)",
  probe: servicesProbe,
  parse(_params, { stdout }) {
    const s = sections(MARK, stdout);
    if (!s.has('sysv')) return { known: false, reason: `unexpected probe output for services: ${JSON.stringify(stdout.slice(0, 80))}` };
    // Keys are host data: an own-property map, so a service called __proto__ is just a name.
    const out: Services = Object.create(null) as Services;
    sysvServices(s.get('sysv')!, out);
    systemdServices(s, out);
    return { known: true, state: { ...out } };
  },
};
