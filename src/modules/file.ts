/**
 * file: a path is a directory, is absent, exists (touch) or is an existing
 * file whose mode/owner/group are managed; or a link (file-link.ts).
 *
 * Times, as Ansible: `touch` sets the access and modification times to now, so
 * it reports changed on every run unless `access_time` and `modification_time`
 * are both `preserve`; other states leave the times alone unless one is `now`.
 *
 * Symlinks, as Ansible's default `follow: true`: a path that is a symlink is
 * resolved (readlink -f) and its target is what file/directory/touch manage;
 * `absent` removes the link itself (rm without -r: the target is kept). With
 * `follow: false` the link is never gone through: every state but absent fails
 * with "PATH is a symlink to X" (root must not chmod or chown through a link
 * someone else planted: that is the setting for paths under other users' control).
 * `recurse` never follows links it meets inside the tree.
 */
import { z } from 'zod';
import { command } from '../quote.js';
import { type LinkSource, linkSourceFact } from '../facts/link-source.js';
import { normalizeMode } from '../facts/file.js';
import { type TreeAttrs, treeAttrsFact } from '../facts/tree-attrs.js';
import type { Probed } from '../facts/types.js';
import { isSymbolicMode } from './symbolic-mode.js';
import { pathSchema, TILDE_REFUSAL, wordSchema } from './common.js';
import { linkPlan } from './file-link.js';
import { attrChanges, attrPlans, fileAttrs, fileFact, type FileState } from './files.js';
import { type Change, defineModule, known, ModuleError, UnknownState } from './types.js';

export const fileArgs = z
  .strictObject({
    path: pathSchema.describe('absolute path on the host'),
    state: z
      .enum(['file', 'directory', 'absent', 'touch', 'link', 'hard'])
      .optional()
      .describe(
        'file: attributes of an existing file; directory: created if missing; touch: a missing file is created, the times of an existing one set to now; absent: removed; ' +
          'link: a symlink to src; hard: a hard link to src. Not given: what the path is now (a directory or a file; its attributes are managed), as in Ansible',
      ),
    src: wordSchema.optional().describe("state link or hard: what the link points to (a relative src is taken from the link's directory)"),
    force: z.boolean().default(false).describe('state link or hard: replace a regular file in the way, or make a symlink to a src that does not exist'),
    recurse: z.boolean().default(false).describe('state directory: owner, group and mode apply to everything under path too (mode as octal only)'),
    modification_time: z
      .enum(['preserve', 'now'])
      .optional()
      .describe('now: set the modification time to now (reported as a change every run); preserve: leave it. Default: now for touch, preserve otherwise'),
    access_time: z.enum(['preserve', 'now']).optional().describe('as modification_time, for the access time'),
    follow: z.boolean().default(true).describe('a path that is a symlink: manage what it points to (true, as Ansible), or fail rather than go through it (false)'),
    ...fileAttrs,
  })
  // Ansible expands a leading ~ of src too; taken as relative, it would point into the link's directory.
  .refine((a) => !a.src?.startsWith('~'), { message: `src ${TILDE_REFUSAL}`, path: ['src'] })
  .refine((a) => !a.recurse || a.state === 'directory', { message: 'file: recurse goes with state directory' })
  .refine((a) => !a.recurse || a.mode === undefined || !isSymbolicMode(a.mode), { message: 'file: recurse takes an octal mode (a symbolic one is not supported with recurse yet)' })
  .refine((a) => (a.state === 'link' || a.state === 'hard') === (a.src !== undefined), { message: 'file: src goes with state link or hard, and they need it' })
  .refine((a) => !(a.state === 'link' || a.state === 'hard') || (a.mode === undefined && a.owner === undefined && a.group === undefined), {
    message: 'file: with state link or hard, set mode, owner and group on the source',
  });

export type FileArgs = z.output<typeof fileArgs>;

/** Each change of file is made by one command. */
function plan(args: FileArgs & { state: 'file' | 'directory' | 'absent' | 'touch' }, state: FileState, redact: (s: string) => string): Array<{ change: Change; command: string }> {
  const path = redact(args.path);
  if (args.state === 'absent') {
    if (args.path.replace(/\/+$/, '') === '') throw new ModuleError('file: refusing to remove /');
    if (state.type === 'absent') return [];
    if (state.type === 'link') {
      const summary = `remove ${path}, a symlink to ${redact(state.target ?? '')} (the target is kept)`;
      return [{ change: { summary, target: path, before: 'link', after: 'absent' }, command: command('rm', '-f', '--', args.path) }];
    }
    const what = state.type;
    return [{ change: { summary: `remove ${what} ${path}`, target: path, before: what, after: 'absent' }, command: command('rm', '-rf', '--', args.path) }];
  }

  if (state.type === 'link') {
    const why = args.follow ? 'it cannot be resolved (a loop?)' : 'with follow: false file does not go through it; point path at the target';
    throw new ModuleError(`file: ${path} is a symlink to ${redact(state.target ?? '')}; ${why}`);
  }
  const out: Array<{ change: Change; command: string }> = [];
  if (args.state === 'directory') {
    if (state.type === 'absent') {
      out.push({ change: { summary: `create directory ${path}`, target: path, before: 'absent', after: 'directory' }, command: command('mkdir', '-p', '--', args.path) });
    } else if (state.type !== 'directory') {
      throw new ModuleError(`file: ${path} exists and is not a directory`);
    }
  } else if (args.state === 'touch') {
    if (state.type === 'absent') {
      out.push({ change: { summary: `create empty file ${path}`, target: path, before: 'absent', after: 'file' }, command: command('touch', '--', args.path) });
    }
  } else if (state.type === 'directory') {
    throw new ModuleError(`file: ${path} is a directory, not a file (use state: directory)`);
  }
  const times = state.type === 'absent' ? [] : timesPlan(args, path);
  return [...out, ...attrChanges(path, args, state, args.state === 'directory'), ...times];
}

/** Setting the times to now: touch's default, or a `now` asked for. It is a change on every run, as in Ansible. */
function timesPlan(args: FileArgs & { state: 'file' | 'directory' | 'absent' | 'touch' }, path: string): Array<{ change: Change; command: string }> {
  const byDefault = args.state === 'touch' ? 'now' : 'preserve';
  const mtime = (args.modification_time ?? byDefault) === 'now';
  const atime = (args.access_time ?? byDefault) === 'now';
  if (!mtime && !atime) return [];
  const which = mtime && atime ? 'access and modification times' : mtime ? 'modification time' : 'access time';
  const flags = mtime && atime ? [] : [mtime ? '-m' : '-a'];
  // -c: a path that went away since the probe is not created by setting its times.
  return [{ change: { summary: `set the ${which} of ${path} to now`, target: `${path} times`, after: 'now' }, command: command('touch', '-c', ...flags, '--', args.path) }];
}

function isLink(args: FileArgs): args is FileArgs & { state: 'link' | 'hard'; src: string } {
  return args.state === 'link' || args.state === 'hard';
}

/** The tree fact's parameters: the attributes `recurse` applies, octal mode normalized. */
function treeParams(args: FileArgs) {
  return {
    path: args.path,
    ...(args.owner !== undefined ? { owner: args.owner } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
    ...(args.mode !== undefined ? { mode: normalizeMode(args.mode) } : {}),
  };
}

/** recurse on an existing directory: one -R command per attribute that differs somewhere under it. */
function recursePlan(args: FileArgs, tree: TreeAttrs, redact: (s: string) => string): Array<{ change: Change; command: string }> {
  const path = redact(args.path);
  const out: Array<{ change: Change; command: string }> = [];
  // -h: links are changed themselves, never what they point to; chmod -R skips links it meets.
  if (tree.owner)
    out.push({
      change: { summary: `owner ${args.owner} on everything under ${path}`, target: `${path} owner (recursive)`, after: args.owner },
      command: command('chown', '-R', '-h', '--', args.owner as string, args.path),
    });
  if (tree.group)
    out.push({
      change: { summary: `group ${args.group} on everything under ${path}`, target: `${path} group (recursive)`, after: args.group },
      command: command('chgrp', '-R', '-h', '--', args.group as string, args.path),
    });
  if (tree.mode) {
    const mode = normalizeMode(args.mode as string);
    out.push({
      change: { summary: `mode ${mode} on everything under ${path}`, target: `${path} mode (recursive)`, after: mode },
      command: command('chmod', '-R', mode, '--', args.path),
    });
  }
  return out;
}

/** The states that go through a symlink on path when `follow` is true (absent and the link states act on the link itself). */
function follows(args: FileArgs): boolean {
  return args.follow && args.state !== 'absent' && !isLink(args);
}

export const file = defineModule<FileArgs, { file: FileState; source?: LinkSource; tree?: TreeAttrs }>({
  name: 'file',
  summary: 'a path is a directory, absent, touched (times set to now) or an existing file, with mode/owner/group; a symlink on path is followed (follow: true)',
  schema: fileArgs,
  aliases: { dest: 'path', name: 'path' },
  differences: [
    '`recurse` never follows a symlink it meets inside the tree (it changes the link itself with chown -h); Ansible (`follow: true`) also changes what the link points to and walks into a linked directory.',
    '`modification_time`/`access_time` take `now` or `preserve`, not a timestamp.',
  ],
  title: (args) => String(args.path ?? ''),
  // Attributes only: the content is never hashed or read.
  facts(args) {
    const path = fileFact(args.path, { hash: false, follow: follows(args) });
    if (isLink(args)) return { file: path, source: linkSourceFact(args.path, args.src) };
    if (args.recurse) return { file: path, tree: treeAttrsFact(treeParams(args)) };
    return { file: path };
  },
  plan(given, facts, ctx) {
    const state = known(facts.file);
    if (isLink(given)) return attrPlans(linkPlan(given, state, known(facts.source as Probed<LinkSource>), ctx.redact), ctx);
    // Ansible's default state is the path's own: mode on an existing directory changes the directory.
    const args = {
      ...given,
      ...(state.resolved !== undefined ? { path: state.resolved } : {}),
      state: (given.state ?? (state.type === 'directory' ? 'directory' : 'file')) as 'file' | 'directory' | 'absent' | 'touch',
    };
    // state: file only manages an existing file; it may be created by an earlier task, so say why rather than fail now.
    if (args.state === 'file' && state.type === 'absent') {
      throw new UnknownState(`${ctx.redact(args.path)} does not exist (state: file does not create files; use touch or copy)`);
    }
    if (args.recurse && state.type === 'directory') return attrPlans(recursePlan(args, known(facts.tree as Probed<TreeAttrs>), ctx.redact), ctx);
    return attrPlans(plan(args, state, ctx.redact), ctx);
  },
});
