/**
 * timezone (community.general): the host's time zone. Without systemd it is what Ansible's
 * module does on Debian: /etc/timezone names the zone, /etc/localtime links to its zoneinfo
 * file, and tzdata is reconfigured; the zone counts as set only when both agree. Where systemd
 * runs, `timedatectl set-timezone`, with the zone read from the /etc/localtime link that
 * timedated reports. The hardware clock (`hwclock`) is not managed: the argument is refused.
 */
import { z } from 'zod';
import { type TimezoneState, timezoneFact } from '../facts/system.js';
import { command } from '../quote.js';
import type { FileState } from './files.js';
import { currentText, editPlan, resolvedArgs, textFileFact } from './text-edit.js';
import { defineModule, known, type ModuleContext, ModuleError, type Planned, UnknownState } from './types.js';

/** A zoneinfo name such as Europe/Paris, Etc/GMT+5 or UTC: words joined by /, never . or .. */
const ZONE = /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)*$/;

const timezoneArgs = z.strictObject({
  name: z
    .string()
    .refine((n) => ZONE.test(n) && n.length <= 255, { message: 'not a time zone name (such as Europe/Paris or UTC: letters, digits, _ + - joined by /)' })
    .describe('the zone, a name under /usr/share/zoneinfo such as Europe/Paris'),
  hwclock: z
    .unknown()
    .refine(() => false, { message: 'hwclock is not managed by plumb (the hardware clock is not the time zone; set /etc/adjtime or run hwclock yourself)' })
    .optional()
    .describe('refused: plumb does not manage the hardware clock'),
});

export type TimezoneArgs = z.output<typeof timezoneArgs>;

const TIMEZONE_FILE = '/etc/timezone';
/** Ansible reads the zone from the link's target after .../zoneinfo/. */
const LINKED_ZONE = /(?:\/(?:usr\/share|etc)\/zoneinfo\/)(.*)/;

/** The zone Ansible's non-systemd timezone reads: /etc/timezone's first word, checked against /etc/localtime. */
export function currentZone(text: string | undefined, tz: TimezoneState, planned: string): string {
  const named = text === undefined ? undefined : /^([^\s]+)/m.exec(text)?.[1];
  if (named !== planned) return named ?? 'n/a';
  const l = tz.localtime;
  if (l.type === 'link') {
    if (!l.resolves) return 'n/a';
    const m = LINKED_ZONE.exec(l.target);
    return m ? m[1] : 'n/a';
  }
  return l.type === 'file' && l.sameAsZone ? named : 'n/a';
}

/** Ansible's edit of /etc/timezone: every line that starts with a word goes, the zone takes the first one's place. */
export function timezoneFileText(text: string, zone: string): string {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const at = lines.findIndex((l) => /^[^\s]/.test(l));
  const kept = lines.filter((l) => !/^[^\s]/.test(l));
  kept.splice(at === -1 ? 0 : at, 0, `${zone}\n`);
  return kept.join('');
}

function plan(args: TimezoneArgs, tz: TimezoneState, file: FileState, ctx: ModuleContext): Planned[] {
  const zone = args.name;
  if (!tz.zoneExists) {
    if (!tz.zoneinfo) throw new UnknownState(`timezone: /usr/share/zoneinfo is missing (tzdata not installed yet?)`);
    throw new ModuleError(`timezone: given timezone "${zone}" is not available (no /usr/share/zoneinfo/${zone})`);
  }
  const link = command('ln', '-sf', `/usr/share/zoneinfo/${zone}`, '/etc/localtime');
  if (tz.systemd) {
    const l = tz.localtime;
    const current = l.type === 'link' ? (LINKED_ZONE.exec(l.target)?.[1] ?? 'n/a') : 'n/a';
    if (current === zone) return [];
    const cmd = command('timedatectl', 'set-timezone', zone);
    return [{ change: { summary: `time zone: ${current} → ${zone}`, target: 'timezone', before: current, after: zone }, steps: [{ kind: 'exec', command: cmd, describe: cmd }] }];
  }
  const edit = resolvedArgs({ path: TIMEZONE_FILE, backup: false }, file);
  const text = currentText('timezone', edit, file, ctx);
  const current = currentZone(text, tz, zone);
  if (current === zone) return [];
  const out = editPlan({ ...edit, backup: false }, file, text, timezoneFileText(text ?? '', zone), `zone ${zone}`, ctx);
  const steps = [{ kind: 'exec' as const, command: link, describe: link }];
  if (tz.reconfigure) {
    const reconfigure = 'export PATH="$PATH:/usr/sbin:/sbin"; DEBIAN_FRONTEND=noninteractive dpkg-reconfigure --frontend noninteractive tzdata';
    steps.push({ kind: 'exec', command: reconfigure, describe: 'dpkg-reconfigure tzdata' });
  }
  out.push({ change: { summary: `time zone: ${current} → ${zone}`, target: 'timezone', before: current, after: zone }, steps });
  return out;
}

export const timezone = defineModule<TimezoneArgs, { tz: TimezoneState; file: FileState }>({
  name: 'timezone',
  summary: 'the time zone: /etc/timezone and the /etc/localtime link (timedatectl where systemd runs) (community.general.timezone)',
  schema: timezoneArgs,
  aliases: { rtc: 'hwclock' },
  differences: ['`hwclock` (alias `rtc`) is refused: plumb does not manage the hardware clock.'],
  title: (a) => String(a.name ?? ''),
  facts: (args) => ({ tz: timezoneFact(args.name), file: textFileFact(TIMEZONE_FILE) }),
  plan: (args, facts, ctx) => plan(args, known(facts.tz), known(facts.file), ctx),
});
