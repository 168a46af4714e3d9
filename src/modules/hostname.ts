/**
 * hostname: the host's name, in /etc/hostname (what the next boot uses) and in the running
 * kernel (`hostname NAME`). Where systemd runs, hostnamectl sets both, as Ansible's systemd
 * strategy does. Without systemd Ansible's Debian strategy only writes the file and leaves the
 * running name as it was until a reboot; plumb also sets the running name, so a plan that says
 * the name is X means `hostname` prints X afterwards.
 */
import { z } from 'zod';
import { type HostnameState, hostnameFact } from '../facts/system.js';
import { command } from '../quote.js';
import type { FileState } from './files.js';
import { currentText, editPlan, resolvedArgs, textFileFact } from './text-edit.js';
import { defineModule, known, type ModuleContext, ModuleError, type Planned } from './types.js';

/** Letters, digits, - _ and dots, starting with a letter or digit, at most 64 bytes (the kernel's HOST_NAME_MAX). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const hostnameArgs = z.strictObject({
  name: z
    .string()
    .refine((n) => NAME.test(n), { message: 'not a host name (letters, digits, - _ and ., starting with a letter or digit, at most 64 characters)' })
    .describe('the host name'),
  use: z
    .enum(['systemd', 'debian'])
    .optional()
    .describe("hostnamectl (Ansible's `debian` strategy is hostnamectl too); left out: hostnamectl where systemd runs, else /etc/hostname and `hostname`"),
});

export type HostnameArgs = z.output<typeof hostnameArgs>;

const HOSTNAME_FILE = '/etc/hostname';

function plan(args: HostnameArgs, host: HostnameState, file: FileState, ctx: ModuleContext): Planned[] {
  const name = args.name;
  const edit = resolvedArgs({ path: HOSTNAME_FILE, backup: false }, file);
  const text = currentText('hostname', edit, file, ctx);
  // Ansible strips the file's content (whitespace and newlines) before comparing.
  const permanent = (text ?? '').trim();
  const systemdStrategy = args.use !== undefined || host.systemd;
  if (systemdStrategy && !host.systemd) {
    throw new ModuleError(
      `systemd is not running on this host (no /run/systemd/system): hostname use: ${args.use} needs hostnamectl; leave \`use\` out to write /etc/hostname and set the running name`,
    );
  }
  const out: Planned[] = [];
  if (systemdStrategy) {
    // The static name first, then the running one, as Ansible orders them.
    if (permanent !== name) {
      const cmd = command('hostnamectl', '--pretty', '--static', 'set-hostname', name);
      out.push({
        change: { summary: `static host name: ${JSON.stringify(permanent)} → ${JSON.stringify(name)}`, target: 'hostname (static)', before: permanent, after: name },
        steps: [{ kind: 'exec', command: cmd, describe: cmd }],
      });
    }
    if (host.current !== name) {
      const cmd = command('hostnamectl', '--transient', 'set-hostname', name);
      out.push({
        change: { summary: `running host name: ${JSON.stringify(host.current)} → ${JSON.stringify(name)}`, target: 'hostname (running)', before: host.current, after: name },
        steps: [{ kind: 'exec', command: cmd, describe: cmd }],
      });
    }
    return out;
  }
  if (permanent !== name) out.push(...editPlan({ ...edit, backup: false }, file, text, `${name}\n`, `host name ${JSON.stringify(name)}`, ctx));
  if (host.current !== name) {
    const cmd = command('hostname', name);
    out.push({
      change: { summary: `running host name: ${JSON.stringify(host.current)} → ${JSON.stringify(name)}`, target: 'hostname (running)', before: host.current, after: name },
      steps: [{ kind: 'exec', command: `export PATH="$PATH:/usr/sbin:/sbin"; ${cmd}`, describe: cmd }],
    });
  }
  return out;
}

export const hostname = defineModule<HostnameArgs, { host: HostnameState; file: FileState }>({
  name: 'hostname',
  summary: 'the host name in /etc/hostname and the running kernel (hostnamectl where systemd runs)',
  schema: hostnameArgs,
  differences: [
    "Without systemd, plumb also sets the running name (`hostname NAME`) and reports a change when only that differs; Ansible's Debian strategy writes /etc/hostname alone and compares only the file.",
    'The task does not update ansible_hostname/ansible_fqdn for later tasks (Ansible sets those facts); `use` takes only systemd and debian.',
  ],
  title: (a) => String(a.name ?? ''),
  facts: () => ({ host: hostnameFact(), file: textFileFact(HOSTNAME_FILE) }),
  plan: (args, facts, ctx) => plan(args, known(facts.host), known(facts.file), ctx),
});
