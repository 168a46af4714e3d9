/**
 * systemd_service (and its older name, systemd): a systemd unit started or stopped, enabled,
 * masked, with daemon-reload/daemon-reexec, decided as Ansible's module decides from
 * `systemctl show` and `systemctl is-enabled`, read in the probe batch. On a host where
 * systemd does not run (no /run/systemd/system) every task fails with that reason, even
 * daemon_reload alone: there is no manager to talk to, and the service module is the one
 * that drives SysV init scripts.
 */
import { z } from 'zod';
import { type SystemdScope, type SystemdUnitState, systemctlPrefix, systemdUnitOf } from '../facts/system.js';
import { command } from '../quote.js';
import { serviceNameSchema } from './service.js';
import { defineModule, known, ModuleError, type Planned, UnknownState } from './types.js';

const systemdArgs = z
  .strictObject({
    name: serviceNameSchema.optional().describe('the unit (a name without a suffix means NAME.service, as systemctl reads it); never a path or a glob'),
    state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional().describe('started or stopped; restarted and reloaded act every run (a stopped unit is started)'),
    enabled: z.boolean().optional().describe('whether the unit starts at boot (systemctl enable/disable)'),
    masked: z.boolean().optional().describe('whether the unit is masked (impossible to start)'),
    daemon_reload: z.boolean().default(false).describe('run systemctl daemon-reload first (a change every run: plumb runs only what its plan shows)'),
    daemon_reexec: z.boolean().default(false).describe('run systemctl daemon-reexec first (a change every run)'),
    scope: z.enum(['system', 'user']).default('system').describe("the system manager, or the connecting user's (needs that user's manager running)"),
    no_block: z.boolean().default(false).describe('do not wait for the job to finish (systemctl --no-block)'),
    force: z.boolean().default(false).describe('override existing symlinks when enabling or masking (systemctl --force)'),
  })
  .refine((a) => a.state !== undefined || a.enabled !== undefined || a.masked !== undefined || a.daemon_reload || a.daemon_reexec, {
    message: 'systemd_service needs one of `state`, `enabled`, `masked`, `daemon_reload` or `daemon_reexec`',
  })
  .refine((a) => a.name !== undefined || (a.state === undefined && a.enabled === undefined && a.masked === undefined), {
    message: '`state`, `enabled` and `masked` need `name`',
  });

export type SystemdArgs = z.output<typeof systemdArgs>;

/** Ansible's rule: is-enabled exiting 0 means enabled, except a unit that is only indirect or an alias. */
function isEnabled(u: SystemdUnitState, scope: SystemdScope): boolean {
  if (u.isEnabledCode === 0) return u.isEnabled !== 'indirect' && u.isEnabled !== 'alias';
  // A SysV script behind a generated unit: its S links say, unless systemctl said disabled.
  return u.isEnabledCode === 1 && scope === 'system' && u.initScript === true && !(u.isEnabled ?? '').endsWith('disabled') && (u.sysvLinks ?? 0) > 0;
}

/** States with nothing to enable or disable: `systemctl disable` on them does nothing, so it would change every run. */
const FIXED = new Set(['static', 'generated', 'transient']);

function plan(args: SystemdArgs, u: SystemdUnitState, module: string): Planned[] {
  const base = [systemctlPrefix(args.scope), ...(args.no_block ? ['--no-block'] : []), ...(args.force ? ['--force'] : [])].join(' ');
  const run = (action: string, name?: string) => (name === undefined ? `${base} ${action}` : `${base} ${command(action, '--', name)}`);
  const out: Planned[] = [];
  const act = (summary: string, target: string, action: string, name?: string, before?: unknown, after?: unknown) =>
    out.push({
      change: { summary, target, before, after },
      steps: [{ kind: 'exec', command: run(action, name), describe: `systemctl ${action}${name === undefined ? '' : ` ${name}`}` }],
    });

  if (args.daemon_reload) act('daemon-reload', 'systemd manager', 'daemon-reload');
  if (args.daemon_reexec) act('daemon-reexec', 'systemd manager', 'daemon-reexec');
  const name = args.name;
  if (name === undefined) return out;
  const target = `unit ${name}`;
  const found = (u.loadState !== undefined && u.loadState !== 'not-found') || u.initScript === true;

  // Masking works on units that are not installed yet, as in Ansible.
  if (args.masked !== undefined) {
    const masked = u.isEnabled === 'masked';
    if (masked !== args.masked) act(args.masked ? 'mask' : 'unmask', `${target} masked`, args.masked ? 'mask' : 'unmask', name, masked, args.masked);
  }
  if ((args.enabled !== undefined || args.state !== undefined) && !found) {
    throw new UnknownState(`${module}: unit ${name} not found (LoadState ${u.loadState ?? 'unknown'}; not installed yet?)`);
  }
  if (args.enabled !== undefined) {
    const enabled = isEnabled(u, args.scope);
    if (!args.enabled && enabled && FIXED.has(u.isEnabled ?? '')) {
      throw new ModuleError(`${module}: unit ${name} is ${u.isEnabled}: it has no [Install] section to disable (mask it to keep it from starting)`);
    }
    if (enabled !== args.enabled) act(args.enabled ? 'enable at boot' : 'disable at boot', `${target} enabled`, args.enabled ? 'enable' : 'disable', name, enabled, args.enabled);
  }
  if (args.state !== undefined) {
    const active = u.activeState ?? 'unknown';
    const running = active === 'active' || active === 'activating';
    const change = (summary: string, action: string) => act(summary, target, action, name, active, args.state === 'stopped' ? 'inactive' : 'active');
    switch (args.state) {
      case 'started':
        if (!running) change('start', 'start');
        break;
      case 'stopped':
        if (running || active === 'deactivating') change('stop', 'stop');
        break;
      default: {
        const action = args.state === 'restarted' ? 'restart' : 'reload';
        if (running) change(action, action);
        else change(`${action} (not running: start)`, 'start');
      }
    }
  }
  return out;
}

function defineSystemd(name: 'systemd_service' | 'systemd', summary: string) {
  return defineModule<SystemdArgs, { unit: SystemdUnitState }>({
    name,
    summary,
    schema: systemdArgs,
    aliases: { service: 'name', unit: 'name', 'daemon-reload': 'daemon_reload', 'daemon-reexec': 'daemon_reexec' },
    differences: [
      'daemon_reload and daemon_reexec are changes that run every time (Ansible reports them ok): plumb runs only what its plan shows.',
      '`enabled: false` on a static, generated or transient unit fails with the reason (Ansible runs systemctl disable, which does nothing, and reports changed every run).',
      'scope `global` is not taken. There is no systemd host in the test fleet, so this module is checked as data (table cases) and by its refusal on a host without systemd, not side by side with Ansible.',
    ],
    title: (a) =>
      [
        a.name,
        a.state,
        a.enabled === true ? 'enabled' : a.enabled === false ? 'disabled' : undefined,
        a.masked === true ? 'masked' : a.masked === false ? 'unmasked' : undefined,
        a.daemon_reload === true ? 'daemon-reload' : undefined,
      ]
        .filter((x) => x !== undefined)
        .join(' '),
    facts: (args) => ({ unit: systemdUnitOf({ name: args.name ?? null, scope: args.scope }) }),
    plan(args, facts) {
      const u = known(facts.unit);
      if (!u.systemd) {
        const what = args.name === undefined ? 'daemon-reload' : `unit ${args.name}`;
        throw new ModuleError(`systemd is not running on this host (no /run/systemd/system): ${name} cannot manage ${what}; for a SysV init script use the service module`);
      }
      return plan(args, u, name);
    },
  });
}

export const systemd_service = defineSystemd(
  'systemd_service',
  'a systemd unit started, stopped, enabled or masked, with daemon-reload; fails on a host where systemd does not run',
);
/** Ansible's older name of the same module. */
export const systemd = defineSystemd('systemd', 'the same module as systemd_service (its older name in Ansible)');
