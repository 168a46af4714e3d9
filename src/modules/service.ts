/**
 * service: a service running or stopped, enabled at boot or not, on systemd
 * or SysV init (detected on the host: systemd runs when /run/systemd/system
 * exists). `restarted` and `reloaded` are actions, not states: they change
 * every time the task runs, which is why they belong in handlers.
 */
import { z } from 'zod';
import { type ServiceState, serviceStatusOf } from '../facts/service.js';
import { SBIN_PATH } from '../facts/types.js';
import { command, quote } from '../quote.js';
import { noNulSchema } from './common.js';
import { defineModule, known, type Planned, type Step, UnknownState } from './types.js';

/**
 * A unit or init script name, never a path: systemd's unit-name characters
 * (letters, digits, : _ . - backslash, and @ for instances), no /, not starting with
 * . or - (so neither . nor .., no hidden file, no option), at most 255
 * characters (systemd's UNIT_NAME_MAX). The SysV probe runs /etc/init.d/NAME,
 * so this rule is what keeps plan from running any other file.
 */
const UNIT = /^[A-Za-z0-9:_\\][A-Za-z0-9:_.@\\-]{0,254}$/;
export const SERVICE_RULE = 'not a service name (letters, digits and : _ . @ \\ -, not starting with . or -, at most 255 characters: a name, never a path)';

/** A unit or init script name by the rule above. */
export const serviceNameSchema = z.string().refine((n) => UNIT.test(n), { message: SERVICE_RULE });

export const serviceArgs = z
  .strictObject({
    name: serviceNameSchema.describe('the systemd unit or init script name (never a path)'),
    state: z
      .enum(['started', 'stopped', 'restarted', 'reloaded'])
      .optional()
      .describe('started or stopped; restarted and reloaded are actions that change every run (use them in handlers)'),
    enabled: z.boolean().optional().describe('whether the service starts at boot (systemctl enable, or update-rc.d for a SysV script)'),
    sleep: z.number().int().min(0).max(3600).optional().describe('SysV: seconds to wait between the stop and the start of a restart (ignored under systemd, as in Ansible)'),
    pattern: noNulSchema
      .refine((p) => p !== '' && !p.includes('\n'), { message: 'must be one non-empty line' })
      .optional()
      .describe('SysV: the service runs when a process line of `ps auxww` contains this text (ignored under systemd, as in Ansible)'),
  })
  .refine((a) => a.state !== undefined || a.enabled !== undefined, { message: 'service needs `state` or `enabled`' });

export type ServiceArgs = z.output<typeof serviceArgs>;

/**
 * The init system's command for an action; `service` falls back to the init.d script itself.
 * systemctl takes `--`; `service` and `update-rc.d` do not, and for them the name rule (never
 * starting with -) is what keeps a name from being read as an option.
 */
function control(init: ServiceState['init'], name: string, action: string): string {
  if (init === 'systemd') return command('systemctl', action, '--', name);
  return `${SBIN_PATH}; ${sysvControl(name, action)}`;
}

function sysvControl(name: string, action: string): string {
  return `if command -v service >/dev/null 2>&1; then ${command('service', name, action)}; else ${command(`/etc/init.d/${name}`, action)}; fi`;
}

/**
 * A SysV restart is a stop then a start (Ansible's way: not every init script has restart),
 * with `sleep` seconds between; it fails only when the start fails, as Ansible merges the two.
 */
function restart(init: ServiceState['init'], name: string, sleep: number | undefined): string {
  if (init === 'systemd') return control(init, name, 'restart');
  const pause = sleep ? ` sleep ${sleep};` : '';
  return `${SBIN_PATH}; ${sysvControl(name, 'stop')};${pause} ${sysvControl(name, 'start')}`;
}

/** Ansible's update-rc.d path: `defaults` first only when the script has no K links yet (it never had any), then enable or disable. */
function updateRcD(name: string, word: 'enable' | 'disable'): string {
  const toggle = command('update-rc.d', name, word);
  if (word === 'disable') return `${SBIN_PATH}; ${toggle}`;
  return `${SBIN_PATH}; { [ -n "$(ls /etc/rc?.d/K??${quote(name)} 2>/dev/null)" ] || ${command('update-rc.d', name, 'defaults')} >/dev/null; } && ${toggle}`;
}

function plan(args: ServiceArgs, state: ServiceState): Planned[] {
  const out: Planned[] = [];
  const exec = (action: string, describe: string): Step => ({
    kind: 'exec',
    command: action === 'restart' ? restart(state.init, args.name, args.sleep) : control(state.init, args.name, action),
    describe,
  });
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
      out.push({
        change: { summary: state.running ? 'restart' : 'restart (not running: start)', target, before: running, after: 'running' },
        steps: [exec('restart', `restart ${args.name}`)],
      });
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
    else cmd = updateRcD(args.name, word);
    out.push({
      change: { summary: `${word} at boot`, target: `${target} enabled`, before: state.enabled, after: args.enabled },
      steps: [{ kind: 'exec', command: cmd, describe: `${word} ${args.name}` }],
    });
  }
  return out;
}

export const service = defineModule<ServiceArgs, { service: ServiceState }>({
  name: 'service',
  summary: 'a service running or stopped, enabled at boot or not, on systemd or SysV init (detected on the host)',
  schema: serviceArgs,
  title: (a) => [a.name, a.state, a.enabled === true ? 'enabled' : a.enabled === false ? 'disabled' : undefined].filter((x) => x !== undefined).join(' '),
  differences: [
    'Reading whether a SysV service runs takes the exit code of `service NAME status` (0: running); Ansible also reads words such as "running" or "stopped" in its output when the code says neither.',
  ],
  facts: (args) => ({ service: serviceStatusOf(args.name, args.pattern) }),
  plan(args, facts) {
    const probed = known(facts.service);
    // Ansible takes the pattern's answer over the init script's status (SysV only: systemd ignores it).
    const state = probed.patternFound === undefined ? probed : { ...probed, running: probed.patternFound };
    if (state.init === 'systemd' && state.enabledDetail === 'unknown' && args.enabled !== undefined) {
      throw new UnknownState(`systemctl is-enabled ${args.name} gave no answer (unit not loaded?)`);
    }
    return plan(args, state);
  },
});
