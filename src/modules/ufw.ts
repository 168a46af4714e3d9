/**
 * ufw (community.general's): the firewall enabled, disabled, reloaded or reset, its default
 * policies, its logging level, and rules added or deleted, with ufw's own command line. Whether a
 * rule is already there is ufw's decision, not ours: the probe asks `ufw --dry-run RULE` and the
 * rule changes when ufw would do more than skip it, compared as Ansible's check mode compares.
 */
import { z } from 'zod';
import { type UfwState, ufwOf } from '../facts/ufw.js';
import { SBIN_PATH } from '../facts/types.js';
import { command } from '../quote.js';
import { noNulSchema } from './common.js';
import { defineModule, known, type Planned } from './types.js';

const word = (pattern: RegExp, what: string) => z.string().regex(pattern, `not ${what}`);
const INTERFACE = word(/^[A-Za-z0-9_.:@+-]{1,15}$/, 'an interface name (letters, digits and _ . : @ + -, at most 15 characters)');
/** An address or network as ufw takes it (any, 10.0.0.0/8, 2001:db8::/32). */
const ADDRESS = word(/^(?:any|[0-9A-Fa-f.:]+(?:\/[0-9]{1,3})?)$/, 'an address: any, an IPv4 or IPv6 address, or a network with /bits');
/** A port, a range (8000:8100), a list (80,443) or a service name (ssh). */
const PORT = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform(String)
  .pipe(word(/^[A-Za-z0-9][A-Za-z0-9_:,-]*$/, 'a port, a range (1000:2000), a list (80,443) or a service name'));
const oneLine = noNulSchema.refine((s) => !/[\r\n]/.test(s), { message: 'must be a single line' });

export const ufwArgs = z
  .strictObject({
    state: z.enum(['enabled', 'disabled', 'reloaded', 'reset']).optional().describe('enabled or disabled; reloaded and reset are actions that change every run'),
    default: z.enum(['allow', 'deny', 'reject']).optional().describe('the default policy for `direction` (incoming when none is given)'),
    logging: z.enum(['on', 'off', 'low', 'medium', 'high', 'full']).optional().describe('the logging level (on keeps the current level, low when off)'),
    direction: z.enum(['in', 'incoming', 'out', 'outgoing', 'routed']).optional().describe('for default: incoming, outgoing or routed; for a rule: in or out'),
    rule: z.enum(['allow', 'deny', 'limit', 'reject']).optional().describe('add (or with delete, remove) a rule with this action'),
    delete: z.boolean().default(false).describe('remove the rule instead of adding it'),
    route: z.boolean().default(false).describe('a routed (forwarding) rule'),
    insert: z.number().int().positive().optional().describe('insert the rule at this position (1 is first) instead of appending it'),
    insert_relative_to: z.literal('zero').default('zero').describe('only zero: insert counts from the first rule'),
    interface: INTERFACE.optional().describe('the interface of the rule (needs direction)'),
    interface_in: INTERFACE.optional().describe('the incoming interface of the rule'),
    interface_out: INTERFACE.optional().describe('the outgoing interface of the rule'),
    log: z.boolean().default(false).describe('log new connections matching the rule'),
    from_ip: ADDRESS.default('any').describe('source address or network'),
    from_port: PORT.optional().describe('source port'),
    to_ip: ADDRESS.default('any').describe('destination address or network'),
    to_port: PORT.optional().describe('destination port'),
    proto: z.enum(['ah', 'any', 'esp', 'ipv6', 'tcp', 'udp', 'gre', 'igmp']).optional().describe('the protocol'),
    name: word(/^[A-Za-z0-9][A-Za-z0-9 _.+-]*$/, 'an application profile name')
      .optional()
      .describe('an application profile (ufw app list) instead of ports and proto'),
    comment: oneLine
      .refine((c) => !c.includes("'"), { message: "a comment cannot contain ' (ufw's own quoting)" })
      .optional()
      .describe('a comment kept with the rule'),
  })
  .superRefine((a, ctx) => {
    const problem = (message: string, path: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
    if (a.state === undefined && a.default === undefined && a.rule === undefined && a.logging === undefined)
      problem('ufw needs one of state, default (policy), rule or logging', 'state');
    if ([a.name, a.proto, a.logging].filter((v) => v !== undefined).length > 1) problem('name, proto and logging cannot go together', 'name');
    if (a.direction !== undefined && (a.interface_in !== undefined || a.interface_out !== undefined))
      problem('direction cannot go with interface_in or interface_out', 'direction');
    if (a.interface !== undefined && a.direction === undefined) problem('interface needs direction', 'interface');
    if (a.default !== undefined && a.direction !== undefined && !['incoming', 'outgoing', 'routed'].includes(a.direction))
      problem('for default, direction must be incoming, outgoing or routed', 'direction');
    if (a.rule !== undefined && a.direction !== undefined && !['in', 'out'].includes(a.direction)) problem('for a rule, direction must be in or out', 'direction');
    if (a.rule !== undefined && !a.route && a.interface_in !== undefined && a.interface_out !== undefined)
      problem('only route rules can combine interface_in and interface_out', 'interface_out');
  });

export type UfwArgs = z.output<typeof ufwArgs>;

/** ufw's rule words, in the order of its long form (Ansible builds the same line). */
export function ruleWords(a: UfwArgs): string[] {
  const out: string[] = [];
  if (a.route) out.push('route');
  if (a.delete) out.push('delete');
  else if (a.insert !== undefined) out.push('insert', String(a.insert));
  out.push(a.rule as string);
  if (a.direction !== undefined) out.push(a.direction);
  if (a.interface !== undefined) out.push('on', a.interface);
  if (a.interface_in !== undefined) out.push('in', 'on', a.interface_in);
  if (a.interface_out !== undefined) out.push('out', 'on', a.interface_out);
  if (a.log) out.push('log');
  out.push('from', a.from_ip);
  if (a.from_port !== undefined) out.push('port', a.from_port);
  out.push('to', a.to_ip);
  if (a.to_port !== undefined) out.push('port', a.to_port);
  if (a.proto !== undefined) out.push('proto', a.proto);
  if (a.name !== undefined) out.push('app', a.name);
  if (a.comment !== undefined) out.push('comment', a.comment);
  return out;
}

const IPV4 = /((25[0-5]|(2[0-4]|1?[0-9])?[0-9])\.){3}(25[0-5]|(2[0-4]|1?[0-9])?[0-9])/;
const IPV6 = /::|(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}/;
const startsIPv4 = (ip: string) => ip.search(IPV4) === 0;
const startsIPv6 = (ip: string) => ip.search(IPV6) === 0;

/**
 * Ansible's check-mode rule: unchanged when ufw would only skip; otherwise compare the tuple
 * lines ufw would write with today's (only the IPv4 ones for an IPv4 rule, IPv6 for IPv6).
 */
export function ruleChanges(a: UfwArgs, state: UfwState): boolean {
  const dry = state.dryRun ?? [];
  const skipping = dry.filter((l) => l.includes('Skipping')).length;
  if (skipping > 0 && skipping === dry.length) return false;
  const wouldWrite = dry.filter((l) => l.startsWith('### tuple'));
  const only = (lines: string[], keep: (l: string) => boolean) => lines.filter(keep).join('\n');
  if (startsIPv4(a.from_ip) || startsIPv4(a.to_ip)) {
    const v4 = (l: string) => IPV4.test(l);
    return only(state.rules, v4) !== only(wouldWrite, v4);
  }
  if (startsIPv6(a.from_ip) || startsIPv6(a.to_ip)) {
    const v6 = (l: string) => IPV6.test(l);
    return only(state.rules, v6) !== only(wouldWrite, v6);
  }
  return state.rules.join('\n') !== wouldWrite.join('\n');
}

const POLICY: Record<string, string> = { allow: 'ACCEPT', deny: 'DROP', reject: 'REJECT' };
const POLICY_KEY: Record<string, string> = { incoming: 'DEFAULT_INPUT_POLICY', outgoing: 'DEFAULT_OUTPUT_POLICY', routed: 'DEFAULT_FORWARD_POLICY' };

function step(words: string[], summary: string, target: string, before?: unknown, after?: unknown): Planned {
  const run = `${SBIN_PATH}; ${command('ufw', ...words)}`;
  return { change: { summary, target, before, after }, steps: [{ kind: 'exec', command: run, describe: command('ufw', ...words) }] };
}

function plan(a: UfwArgs, s: UfwState): Planned[] {
  const out: Planned[] = [];
  const active = /^Status: active$/m.test(s.status);
  // Ansible's order: state, default, rule, logging.
  if (a.state === 'enabled' && !active) out.push(step(['--force', 'enable'], 'enable the firewall', 'ufw', 'inactive', 'active'));
  if (a.state === 'disabled' && active) out.push(step(['disable'], 'disable the firewall', 'ufw', 'active', 'inactive'));
  if (a.state === 'reloaded') out.push(step(['reload'], 'reload the firewall', 'ufw'));
  if (a.state === 'reset') out.push(step(['--force', 'reset'], 'reset the firewall to its installed rules (disabled)', 'ufw'));
  if (a.default !== undefined) {
    const direction = a.direction ?? 'incoming';
    const current = s.settings[POLICY_KEY[direction]];
    if (current !== POLICY[a.default]) {
      const words = ['default', a.default, ...(a.direction !== undefined ? [a.direction] : [])];
      out.push(step(words, `default ${direction} policy ${current ?? '?'} → ${POLICY[a.default]}`, `ufw default ${direction}`, current, POLICY[a.default]));
    }
  }
  if (a.rule !== undefined && ruleChanges(a, s)) {
    const words = ruleWords(a);
    out.push(step(words, `${a.delete ? 'delete' : 'add'} rule: ${words.filter((w) => w !== 'delete').join(' ')}`, `ufw rule ${words.join(' ')}`));
  }
  if (a.logging !== undefined) {
    const level = s.settings.LOGLEVEL ?? 'low';
    const ok = a.logging === 'off' ? level === 'off' : a.logging === 'on' ? level !== 'off' : level === a.logging;
    if (!ok) out.push(step(['logging', a.logging], `logging ${level} → ${a.logging}`, 'ufw logging', level, a.logging));
  }
  return out;
}

export const ufw = defineModule<UfwArgs, { ufw: UfwState }>({
  name: 'ufw',
  summary: 'the ufw firewall enabled or disabled, its default policies and logging, and rules added or deleted (community.general.ufw)',
  schema: ufwArgs,
  aliases: {
    policy: 'default',
    if: 'interface',
    if_in: 'interface_in',
    if_out: 'interface_out',
    from: 'from_ip',
    src: 'from_ip',
    dest: 'to_ip',
    to: 'to_ip',
    port: 'to_port',
    protocol: 'proto',
    app: 'name',
  },
  differences: [
    "While ufw is inactive, `ufw status` shows neither the logging level nor the default policies: Ansible then reports a `default` task ok although it changed the policy, and a `logging` task changed on every run; plumb reads both from ufw's configuration and reports a change only when there is one.",
    'insert_relative_to takes only zero (the default).',
    "A rule is checked with `ufw --dry-run` (Ansible's check-mode comparison); ufw's dry run assumes IPv6 cannot rate-limit, so a limit rule whose IPv4 half exists and IPv6 half does not is reported ok.",
  ],
  title: (a) =>
    [
      a.state,
      a.default !== undefined ? `default ${String(a.default)}` : undefined,
      a.rule,
      a.to_port ?? a.port,
      a.logging !== undefined ? `logging ${String(a.logging)}` : undefined,
    ]
      .filter((x) => x !== undefined)
      .map(String)
      .join(' '),
  facts: (a) => ({ ufw: ufwOf(a.rule !== undefined ? ruleWords(a) : undefined) }),
  plan: (a, facts) => plan(a, known(facts.ufw)),
});
