/**
 * What blockinfile and replace share: they read a text file whole (following a symlink to its
 * target, as Ansible's do), compute the new content here, and write it back atomically through
 * the transport, after `validate` and `backup`, with the file's own mode and owner unless the
 * task asks for others. Secret content shows as "(secret)", never as a diff.
 */
import { posix } from 'node:path';
import { command } from '../quote.js';
import { attrChanges, attrPlans, type Attrs, backupCommand, fileFact, type FileState, madeByWrite, unifiedDiff, validateStep, writeStep } from './files.js';
import { type Change, type FactRef, type ModuleContext, ModuleError, type Planned, type Step, UnknownState } from './types.js';

/** Files larger than this are not edited (the probe would carry them whole). */
export const TEXT_EDIT_LIMIT = 1024 * 1024;

export interface TextEditArgs extends Attrs {
  path: string;
  backup: boolean;
  validate?: string;
}

/** The file, read whole; a symlink is resolved and its target read. */
export function textFileFact(path: string): FactRef<FileState> {
  return fileFact(path, { hash: true, fetchLimit: TEXT_EDIT_LIMIT, follow: true });
}

/** The arguments with `path` replaced by what the symlink resolved to, so the target is edited. */
export function resolvedArgs<A extends { path: string }>(args: A, state: FileState): A {
  return state.resolved !== undefined ? { ...args, path: state.resolved } : args;
}

/** The current text of an existing regular file; the errors Ansible gives for what is not one. */
export function currentText(module: string, args: { path: string }, state: FileState, ctx: ModuleContext): string | undefined {
  const path = ctx.redact(args.path);
  if (state.type === 'link') throw new ModuleError(`${module}: ${path} is a symlink to ${ctx.redact(state.target ?? '')}; it cannot be resolved (a loop?)`);
  if (state.type === 'directory') throw new ModuleError(`${module}: ${path} is a directory`);
  if (state.type === 'other') throw new ModuleError(`${module}: ${path} is not a regular file`);
  if (state.type === 'absent') return undefined;
  if (state.content === undefined) throw new UnknownState(`${path} is larger than ${TEXT_EDIT_LIMIT} bytes or not UTF-8 text; ${module} does not edit it`);
  return state.content;
}

/**
 * The plan of an edit: `after` undefined means the content stays as it is (attributes may still
 * change); `before` undefined means the file is created (its parent directories first).
 */
export function editPlan(args: TextEditArgs, state: FileState, before: string | undefined, after: string | undefined, summary: string, ctx: ModuleContext): Planned[] {
  const path = ctx.redact(args.path);
  const attrs = attrChanges(path, args, state);
  if (after === undefined || after === before) return before === undefined ? [] : attrPlans(attrs, ctx);
  const secret = ctx.hasSecret(before ?? '') || ctx.hasSecret(after);
  const created = before === undefined;
  const change: Change = secret
    ? { summary: `${created ? `create ${path}` : 'content changed'} (secret)`, target: path, secret: true }
    : { summary: created ? `create ${path}, ${summary}` : summary, target: path, diff: unifiedDiff(path, before, after) };
  const steps: Step[] = [];
  if (args.validate !== undefined) steps.push(validateStep(args.validate, args.path, after, ctx));
  if (created) {
    const parents = command('mkdir', '-p', '--', posix.dirname(args.path));
    steps.push({ kind: 'exec', command: parents, describe: ctx.redact(parents) });
  } else if (args.backup) {
    const backup = backupCommand(args.path);
    steps.push({ kind: 'exec', command: backup, describe: ctx.redact(backup) });
  }
  steps.push(writeStep(args.path, after, args, state, secret, ctx));
  return [{ change, steps }, ...madeByWrite(attrs)];
}

/** Whether the file (or what the task puts into it) holds a secret: then its fact fields are marked. */
export function secretTextFacts(file: { known: boolean; state?: FileState }, inputs: string[], ctx: ModuleContext): string[] {
  const content = file.known ? file.state?.content : undefined;
  return inputs.some((t) => ctx.hasSecret(t)) || (content !== undefined && ctx.hasSecret(content)) ? ['file.content', 'file.sha256'] : [];
}
