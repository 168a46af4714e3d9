/**
 * service: a service running or stopped, enabled at boot or not, on systemd
 * or SysV init (detected on the host: systemd runs when /run/systemd/system
 * exists). `restarted` and `reloaded` are actions, not states: they change
 * every time the task runs, which is why they belong in handlers.
 */
import { z } from 'zod';
import { command, quote } from '../shell.js';
import type { Module, Probed, Step } from './types.js';
import { fromPlan, type Planned } from './planned.js';

/**
 * A unit or init script name, never a path: systemd's unit-name characters
 * (letters, digits, : _ . - backslash, and @ for instances), no /, not starting with
 * . or - (so neither . nor .., no hidden file, no option), at most 255
 * characters (systemd's UNIT_NAME_MAX). The SysV probe runs /etc/init.d/NAME,
 * so this rule is what keeps plan from running any other file.
 */
const UNIT = /^[A-Za-z0-9:_\\][A-Za-z0-9:_.@\\-]{0,254}$/;
export const SERVICE_RULE = 'not a service name (letters, digits and : _ . @ \\ -, not starting with . or -, at most 255 characters: a name, never a path)';

export const serviceArgs = z
  .strictObject({
    name: z.string().refine((n) => UNIT.test(n), { message: SERVICE_RULE }),
    state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((a) => a.state !== undefined || a.enabled !== undefined, { message: 'service needs `state` or `enabled`' });

export type ServiceArgs = z.output<typeof serviceArgs>;

export interface ServiceState {
  init: 'systemd' | 'sysv';
  running: boolean;
  /** systemd: `systemctl is-enabled` said enabled (or static/indirect/generated: not ours to change). SysV: an S link in rc2-5.d. */
  enabled: boolean;
  /** systemctl is-enabled's word, e.g. "enabled", "disabled", "static"; "links" for SysV. */
  enabledDetail: string;
}

const PATH = 'export PATH="$PATH:/usr/sbin:/sbin"';

/**
 * Prints `init systemd|sysv|none`, `running RC` (0 = running) and
 * `enabled WORD` (systemd: is-enabled's answer; SysV: the number of S links).
 */
function probe(args: ServiceArgs): string {
  const n = quote(args.name);
  return [
    PATH,
    `n=${n}`,
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
  ].join('\n');
}

function parse(args: ServiceArgs, stdout: string): Probed<ServiceState> {
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(init|running|enabled) (.*)$/.exec(line);
    if (m) fields.set(m[1], m[2]);
  }
  const init = fields.get('init');
  if (init === 'none') return { known: false, reason: `service ${args.name} not found (no systemd unit or /etc/init.d script; not installed yet?)` };
  if ((init !== 'systemd' && init !== 'sysv') || !fields.has('running') || !fields.has('enabled')) {
    return { known: false, reason: `unexpected probe output for service ${args.name}: ${JSON.stringify(stdout.slice(0, 80))}` };
  }
  const word = fields.get('enabled') as string;
  const enabled = init === 'systemd' ? ['enabled', 'enabled-runtime', 'alias', 'static', 'indirect', 'generated'].includes(word) : Number(word) > 0;
  if (init === 'systemd' && word === 'unknown' && args.enabled !== undefined) {
    return { known: false, reason: `systemctl is-enabled ${args.name} gave no answer (unit not loaded?)` };
  }
  return { known: true, state: { init, running: fields.get('running') === '0', enabled, enabledDetail: init === 'sysv' ? 'links' : word } };
}

/**
 * The init system's command for an action; `service` falls back to the init.d script itself.
 * systemctl takes `--`; `service` and `update-rc.d` do not, and for them the name rule (never
 * starting with -) is what keeps a name from being read as an option.
 */
function control(init: ServiceState['init'], name: string, action: string): string {
  if (init === 'systemd') return command('systemctl', action, '--', name);
  const viaService = command('service', name, action);
  const viaScript = command(`/etc/init.d/${name}`, action);
  return `${PATH}; if command -v service >/dev/null 2>&1; then ${viaService}; else ${viaScript}; fi`;
}


function plan(args: ServiceArgs, state: ServiceState): Planned[] {
  const out: Planned[] = [];
  const exec = (action: string, describe: string): Step => ({ kind: 'exec', command: control(state.init, args.name, action), describe });
  const target = `service ${args.name}`;
  const running = state.running ? 'running' : 'stopped';
  switch (args.state) {
    case 'started':
      if (!state.running) out.push({ change: { summary: 'start', target, before: running, after: 'running' }, steps: [exec('start', `start ${args.name}`)] });
      break;
    case 'stopped':
      if (state.running) out.push({ change: { summary: 'stop', target, before: running, after: 'stopped' }, steps: [exec('stop', `stop ${args.name}`)] });
      break;
    case 'restarted':
      out.push({ change: { summary: state.running ? 'restart' : 'restart (not running: start)', target, before: running, after: 'running' }, steps: [exec('restart', `restart ${args.name}`)] });
      break;
    case 'reloaded':
      // Ansible's rule: reloading a stopped service starts it.
      if (state.running) out.push({ change: { summary: 'reload', target, before: running, after: 'running' }, steps: [exec('reload', `reload ${args.name}`)] });
      else out.push({ change: { summary: 'reload (not running: start)', target, before: running, after: 'running' }, steps: [exec('start', `start ${args.name}`)] });
      break;
  }
  if (args.enabled !== undefined && args.enabled !== state.enabled) {
    const word = args.enabled ? 'enable' : 'disable';
    let cmd: string;
    if (state.init === 'systemd') cmd = command('systemctl', word, '--', args.name);
    // `defaults` creates the links if the package never did; `enable`/`disable` then flips them to S or K.
    else cmd = `${PATH}; ${command('update-rc.d', args.name, 'defaults')} >/dev/null && ${command('update-rc.d', args.name, word)}`;
    out.push({
      change: { summary: `${word} at boot`, target: `${target} enabled`, before: state.enabled, after: args.enabled },
      steps: [{ kind: 'exec', command: cmd, describe: `${word} ${args.name}` }],
    });
  }
  return out;
}

export const service: Module<ServiceArgs, ServiceState> = {
  name: 'service',
  schema: serviceArgs,
  probe: (args) => probe(args),
  parse: (args, out) => parse(args, out.stdout),
  ...fromPlan(plan),
};
