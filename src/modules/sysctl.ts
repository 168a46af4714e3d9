/**
 * sysctl (ansible.posix): a kernel parameter in a sysctl file and, with `reload`, applied from
 * it (`sysctl -p FILE`); with `sysctl_set`, set in the running kernel directly. It decides
 * changed/ok as Ansible's module does, and rewrites the file as that module does: each
 * `key = value` line becomes `key=value`, a key's later duplicates go, comments stay.
 */
import { z } from 'zod';
import { type SysctlValue, sysctlValueOf } from '../facts/system.js';
import { command } from '../quote.js';
import { pathSchema } from './common.js';
import type { FileState } from './files.js';
import { currentText, editPlan, resolvedArgs, textFileFact } from './text-edit.js';
import { defineModule, known, type ModuleContext, ModuleError, type Planned } from './types.js';

/** A kernel parameter's name, dotted or with slashes; never an option or a `key=value`. */
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_./:@+-]*$/;

const sysctlArgs = z
  .strictObject({
    name: z
      .string()
      .refine((n) => KEY.test(n.trim()), { message: 'not a kernel parameter name (letters, digits and _ . / : @ + -, such as net.ipv4.ip_forward)' })
      .describe('the kernel parameter, e.g. net.ipv4.ip_forward'),
    value: z
      .union([z.string(), z.number(), z.boolean()])
      .optional()
      .refine((v) => typeof v !== 'string' || !/[\n\0]/.test(v), { message: 'contains a newline or NUL' })
      .describe('its value; yes/no/true/false/on/off become 1 or 0, as in Ansible'),
    state: z.enum(['present', 'absent']).default('present').describe('present: the file sets it; absent: the file does not mention it'),
    reload: z.boolean().default(true).describe('after a change, apply the file with sysctl -p FILE'),
    sysctl_set: z.boolean().default(false).describe('also set it in the running kernel with sysctl -w when it differs there'),
    ignoreerrors: z.boolean().default(false).describe('sysctl -e: ignore unknown keys when setting and reloading'),
    sysctl_file: pathSchema.default('/etc/sysctl.conf').describe('the file that holds it'),
  })
  .refine((a) => a.state === 'absent' || a.value !== undefined, { message: 'state present needs `value`' });

export type SysctlArgs = z.output<typeof sysctlArgs>;

const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);

/** Ansible's _parse_value: booleans in any spelling become 1/0, anything else is trimmed. */
export function sysctlWord(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  const s = String(value);
  if (TRUE.has(s.toLowerCase())) return '1';
  if (FALSE.has(s.toLowerCase())) return '0';
  return s.trim();
}

/** Ansible compares the kernel's value word by word. */
const sameWords = (a: string, b: string) => a.split(/\s+/).filter(Boolean).join(' ') === b.split(/\s+/).filter(Boolean).join(' ');

const isSetting = (line: string) => line !== '' && !line.startsWith('#') && !line.startsWith(';') && line.includes('=');

function splitSetting(line: string): [string, string] {
  const at = line.indexOf('=');
  return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
}

/** The file's lines as Python's text mode reads them, each stripped. */
const linesOf = (text: string) =>
  text === ''
    ? []
    : text
        .replace(/(\r\n|\r|\n)$/, '')
        .split(/\r\n|\r|\n/)
        .map((l) => l.trim());

/** The last value the file gives `name` (undefined: none), and the file as Ansible rewrites it. */
export function sysctlEdit(text: string, name: string, value: string | undefined): { current: string | undefined; rewritten: string } {
  const lines = linesOf(text);
  let current: string | undefined;
  for (const line of lines)
    if (isSetting(line)) {
      const [k, v] = splitSetting(line);
      if (k === name) current = v;
    }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    if (!isSetting(line)) {
      out.push(line);
      continue;
    }
    const [k, v] = splitSetting(line);
    if (seen.has(k)) continue;
    seen.add(k);
    if (k !== name) out.push(`${k}=${v}`);
    else if (value !== undefined) out.push(`${k}=${value}`);
  }
  if (!seen.has(name) && value !== undefined) out.push(`${name}=${value}`);
  return { current, rewritten: out.map((l) => `${l}\n`).join('') };
}

/** sysctl with C messages; like Ansible, a "setting key" error on stderr fails the step even when the exit code is 0. */
function sysctlCommand(...args: string[]): string {
  const run = `LC_ALL=C ${command('sysctl', ...args)}`;
  return `e=$(${run} 2>&1 >/dev/null); r=$?; [ -z "$e" ] || printf '%s\\n' "$e" >&2; [ "$r" -eq 0 ] && ! printf '%s\\n' "$e" | grep -Eq '^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$'`;
}

function plan(args: SysctlArgs, proc: SysctlValue, file: FileState, ctx: ModuleContext): Planned[] {
  const name = args.name.trim();
  const present = args.state === 'present';
  const wanted = sysctlWord(present ? args.value : undefined);
  if (present && wanted === '') throw new ModuleError('sysctl: value cannot be blank');
  const edit = resolvedArgs({ path: args.sysctl_file, backup: false }, file);
  const text = currentText('sysctl', edit, file, ctx) ?? '';
  const { current, rewritten } = sysctlEdit(text, name, present ? wanted : undefined);
  const procValue = proc.code === 0 ? proc.value : undefined;
  const procDiffers = procValue === undefined || !sameWords(procValue, wanted);

  // Ansible's decision chain, in its order.
  let changed = false;
  let writeFile = false;
  let setProc = false;
  if (current === undefined) {
    if (present) changed = writeFile = true;
  } else if (current !== '' && !present) changed = writeFile = true;
  else if (current !== wanted) changed = writeFile = true;
  else if (args.reload && procDiffers) changed = true;
  if (args.sysctl_set && present && procDiffers) {
    changed = true;
    // Ansible sets it only when the kernel gave a value; plumb sets it either way rather than report a change it does not make.
    setProc = procValue !== undefined || !args.reload;
  }
  if (!changed) return [];

  const e = args.ignoreerrors ? ['-e'] : [];
  const shown = procValue === undefined ? '(unreadable)' : JSON.stringify(procValue.trim());
  const out: Planned[] = [];
  if (setProc) {
    const cmd = sysctlCommand(...e, '-w', `${name}=${wanted}`);
    out.push({
      change: { summary: `set ${name} in the kernel: ${shown} → ${JSON.stringify(wanted)}`, target: `sysctl ${name}`, before: procValue, after: wanted },
      steps: [{ kind: 'exec', command: cmd, describe: `sysctl -w ${name}=${wanted}` }],
    });
  }
  if (writeFile)
    out.push(...editPlan({ ...edit, backup: false }, file, file.type === 'absent' ? undefined : text, rewritten, present ? `${name}=${wanted}` : `remove ${name}`, ctx));
  if (args.reload) {
    const cmd = sysctlCommand(...e, '-p', args.sysctl_file);
    const why = writeFile || setProc ? `reload ${args.sysctl_file}` : `${name} is ${shown} in the kernel: reload ${args.sysctl_file}`;
    out.push({
      change: { summary: why, target: `sysctl ${name}`, before: procValue, after: wanted },
      steps: [{ kind: 'exec', command: cmd, describe: `sysctl -p ${args.sysctl_file}` }],
    });
  }
  return out;
}

export const sysctl = defineModule<SysctlArgs, { proc: SysctlValue; file: FileState }>({
  name: 'sysctl',
  summary: 'a kernel parameter in a sysctl file, applied with sysctl -p (ansible.posix.sysctl)',
  schema: sysctlArgs,
  aliases: { key: 'name', val: 'value' },
  differences: ['With `sysctl_set` and a parameter the kernel does not show (sysctl -e -n fails), plumb runs sysctl -w for it; Ansible reports changed without setting it.'],
  title: (a) => [a.name, a.state === 'absent' ? 'absent' : a.value === undefined ? undefined : `= ${String(a.value)}`].filter((x) => x !== undefined).join(' '),
  facts: (args) => ({ proc: sysctlValueOf(args.name.trim()), file: textFileFact(args.sysctl_file) }),
  plan: (args, facts, ctx) => plan(args, known(facts.proc), known(facts.file), ctx),
});
