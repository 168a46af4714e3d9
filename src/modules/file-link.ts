/**
 * file's `state: link` and `state: hard`, as Ansible: PATH becomes a symlink to SRC (written as
 * given: a relative SRC stays relative to the link's directory) or another name of SRC. An
 * existing link to elsewhere is repointed; a regular file in the way is replaced only with
 * `force`, which also allows a symlink to a SRC that does not exist (yet).
 */
import type { LinkSource } from '../facts/link-source.js';
import { command } from '../quote.js';
import type { FileState } from './files.js';
import { type Change, ModuleError } from './types.js';

export interface LinkArgs {
  path: string;
  state: 'link' | 'hard';
  src: string;
  force: boolean;
}

export function linkPlan(args: LinkArgs, state: FileState, source: LinkSource, redact: (s: string) => string): Array<{ change: Change; command: string }> {
  const path = redact(args.path);
  const src = redact(args.src);
  if (state.type === 'directory' || state.type === 'other') throw new ModuleError(`file: ${path} exists and is not a file or link; not replacing it with a link`);
  if (args.state === 'link') {
    if (state.type === 'link' && state.target === args.src) return [];
    if (!source.exists && !args.force) throw new ModuleError(`file: src ${src} does not exist; use force: true to link to it anyway`);
    if (state.type === 'file' && !args.force) throw new ModuleError(`file: ${path} is a regular file; use force: true to replace it with a link`);
    const before = state.type === 'link' ? `a symlink to ${redact(state.target ?? '')}` : state.type === 'file' ? 'a regular file' : 'absent';
    const summary = state.type === 'absent' ? `link ${path} → ${src}` : `link ${path} → ${src} (was ${before})`;
    // -n: a link to a directory is replaced itself, never followed into.
    return [{ change: { summary, target: path, before, after: `symlink to ${src}` }, command: command('ln', '-s', '-f', '-n', '--', args.src, args.path) }];
  }
  if (!source.exists) throw new ModuleError(`file: src ${src} does not exist; a hard link needs it`);
  if (source.same) return [];
  if (state.type === 'file' && !args.force) throw new ModuleError(`file: ${path} is a different file; use force: true to replace it with a hard link to ${src}`);
  const summary = state.type === 'absent' ? `hard link ${path} to ${src}` : `hard link ${path} to ${src} (replacing ${state.type === 'link' ? 'a symlink' : 'a file'})`;
  return [{ change: { summary, target: path, before: state.type, after: `hard link to ${src}` }, command: command('ln', '-f', '--', args.src, args.path) }];
}
