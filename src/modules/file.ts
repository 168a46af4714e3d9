/**
 * file: a path is a directory, is absent, exists (touch) or is an existing
 * file whose mode/owner/group are managed. `touch` creates a missing file but
 * leaves an existing one's timestamps alone, so a converged host stays ok.
 *
 * Symlinks: file never follows them (unlike Ansible's file, whose `follow`
 * defaults to yes). plumb runs as root, and a chmod or chown through a link
 * an unprivileged user planted (~/notes -> /etc/shadow) hands them the
 * target; the probe does not stat through links either. So `absent` removes
 * the link itself (rm without -r: the target is kept) and every other state
 * fails the task with "PATH is a symlink to X; ... point path at the target".
 */
import { z } from 'zod';
import { command } from '../shell.js';
import { pathSchema } from './common.js';
import { attrChanges, fileAttrs, type FileState, fileProbe, parseFileProbe } from './files.js';
import { type Change, type Module, ModuleError, type Step } from './types.js';

export const fileArgs = z.strictObject({
  path: pathSchema,
  state: z.enum(['file', 'directory', 'absent', 'touch']).default('file'),
  ...fileAttrs,
});

export type FileArgs = z.output<typeof fileArgs>;

interface Planned {
  change: Change;
  commands: string[];
}

function plan(args: FileArgs, state: FileState, redact: (s: string) => string): Planned[] {
  const path = redact(args.path);
  if (args.state === 'absent') {
    if (args.path.replace(/\/+$/, '') === '') throw new ModuleError('file: refusing to remove /');
    if (state.type === 'absent') return [];
    if (state.type === 'link') {
      const summary = `remove ${path}, a symlink to ${redact(state.target ?? '')} (the target is kept)`;
      return [{ change: { summary, target: path, before: 'link', after: 'absent' }, commands: [command('rm', '-f', '--', args.path)] }];
    }
    const what = state.type;
    return [{ change: { summary: `remove ${what} ${path}`, target: path, before: what, after: 'absent' }, commands: [command('rm', '-rf', '--', args.path)] }];
  }

  if (state.type === 'link') {
    throw new ModuleError(`file: ${path} is a symlink to ${redact(state.target ?? '')}; file does not follow symlinks, point path at the target`);
  }
  const out: Planned[] = [];
  if (args.state === 'directory') {
    if (state.type === 'absent') {
      out.push({ change: { summary: `create directory ${path}`, target: path, before: 'absent', after: 'directory' }, commands: [command('mkdir', '-p', '--', args.path)] });
    } else if (state.type !== 'directory') {
      throw new ModuleError(`file: ${path} exists and is not a directory`);
    }
  } else if (args.state === 'touch') {
    if (state.type === 'absent') {
      out.push({ change: { summary: `create empty file ${path}`, target: path, before: 'absent', after: 'file' }, commands: [command('touch', '--', args.path)] });
    }
  } else if (state.type === 'directory') {
    throw new ModuleError(`file: ${path} is a directory, not a file (use state: directory)`);
  }
  for (const a of attrChanges(path, args, state)) out.push({ change: a.change, commands: [a.command] });
  return out;
}

export const file: Module<FileArgs, FileState> = {
  name: 'file',
  schema: fileArgs,
  probe(args) {
    return fileProbe(args.path, { hash: false });
  },
  parse(args, out, ctx) {
    const probed = parseFileProbe(ctx.redact(args.path), out.stdout, { hash: false });
    // state: file only manages an existing file; it may be created by an earlier task, so say why rather than fail now.
    if (probed.known && args.state === 'file' && probed.state.type === 'absent') {
      return { known: false, reason: `${ctx.redact(args.path)} does not exist (state: file does not create files; use touch or copy)` };
    }
    return probed;
  },
  diff(args, state, ctx) {
    return plan(args, state, (s) => ctx.redact(s)).map((p) => p.change);
  },
  apply(args, state, changes, ctx) {
    if (changes.length === 0) return [];
    return plan(args, state, (s) => ctx.redact(s)).flatMap((p) =>
      p.commands.map((c): Step => ({ kind: 'exec', command: c, describe: ctx.redact(c) })),
    );
  },
};
