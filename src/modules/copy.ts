/**
 * copy: make a remote file hold exactly the given bytes (inline `content` or
 * a local `src`), with mode/owner/group. The file is compared by sha256; the
 * write itself is the transport's atomic temp-file-and-rename.
 *
 * Symlinks (as Ansible's `follow: false`, its default for copy and template):
 * a dest that is a symlink is never read, hashed or followed. The plan says
 * "DEST is a symlink to X; will be replaced by a regular file", and the
 * rename replaces the link itself; X is left as it is. Requested attributes
 * apply to the new file, as on a create; a backup copies the link (cp -P).
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { modeSchema, modeWith, pathSchema, wordSchema } from './common.js';
import {
  asText,
  attrChanges,
  attrPlans,
  type Attrs,
  backupCommand,
  DIFF_CONTENT_LIMIT,
  fileAttrs,
  fileFact,
  type FileState,
  madeByWrite,
  sha256,
  unifiedDiff,
  validateSchema,
  validateStep,
  writeStep,
} from './files.js';
import { type Change, defineModule, known, type Module, type ModuleContext, ModuleError, type Planned, type Step } from './types.js';
import { remoteCopyPlan, type RemoteCopyArgs, remoteSourceFact } from './copy-remote.js';
import { treeFacts, treeLayout, type TreeLayout, treePlan } from './copy-tree.js';
import type { Probed } from '../facts/types.js';

/** Arguments copy and template share with Ansible's: whether an existing file is replaced, and a check of the new one. */
export const writeOptions = {
  force: z.boolean().default(true).describe('false: only create a missing file, never change an existing one (its content or attributes)'),
  validate: validateSchema.optional(),
};

export const copyArgs = z
  .strictObject({
    dest: pathSchema.describe('absolute path of the file on the host'),
    content: z.string().optional().describe("the file's content (exactly one of content or src)"),
    src: wordSchema.optional().describe('a local file to copy, relative to the playbook (with remote_src: an absolute path on the host)'),
    remote_src: z.boolean().default(false).describe('src is a file on the host (copied there), not a local one'),
    backup: z.boolean().default(false).describe('keep a timestamped copy (DEST.YYYY-MM-DD@HH:MM:SS~) of the old file before overwriting it'),
    ...writeOptions,
    ...fileAttrs,
    mode: modeWith(['preserve']).optional().describe('octal ("0644") or symbolic ("u=rw,g=r,o=") mode, or `preserve`: the mode src has'),
    directory_mode: modeSchema
      .optional()
      .describe('with a local directory as src: the mode of the directories it copies (those it creates, and those of the tree that exist); else what the umask gives'),
  })
  .refine((a) => (a.content === undefined) !== (a.src === undefined), {
    message: 'copy needs exactly one of `content` or `src`',
  })
  .refine((a) => !a.remote_src || (a.src !== undefined && a.src.startsWith('/')), { message: 'copy: remote_src needs src, an absolute path on the host' })
  .refine((a) => a.mode !== 'preserve' || a.src !== undefined, { message: 'copy: mode preserve needs src (content has no mode to keep)' });

type CopyArgs = z.output<typeof copyArgs>;

/** What copy-like modules (copy, template) need from their arguments. */
export interface FileTarget extends Attrs {
  dest: string;
  backup: boolean;
  src?: string;
  force: boolean;
  validate?: string;
}

/** As Ansible: a dest ending in / names a directory, and the file is DEST/<basename of src>. */
function withBasename<A extends FileTarget>(args: A): A {
  if (!args.dest.endsWith('/') || args.src === undefined) return args;
  return { ...args, dest: args.dest + posix.basename(args.src) };
}

/** The name the file gets if dest turns out to be an existing directory (only a src has a name to keep). */
function intoDirectory(args: FileTarget): string | undefined {
  if (args.src === undefined || args.dest.endsWith('/')) return undefined;
  return posix.basename(args.src);
}

interface Desired {
  bytes: Buffer;
  /** The content as text (for diffs and the secret check); undefined for binary. */
  text: string | undefined;
  secret: boolean;
}

/**
 * The behaviour of copy and template, parameterised by how the desired bytes
 * are produced. Kept in one place so both modules compare, diff and redact
 * the same way.
 */
export function contentModule<A extends FileTarget>(
  declared: Pick<Module<A>, 'name' | 'summary' | 'schema' | 'differences'>,
  content: (args: A, ctx: ModuleContext) => Buffer,
): Module<A, { file: FileState }> {
  const { name } = declared;

  function desired(args: A, ctx: ModuleContext): Desired {
    const bytes = content(args, ctx);
    const text = asText(bytes);
    // Binary content is checked as latin1 too, so a secret inside it is still noticed.
    const secret = ctx.hasSecret(text ?? bytes.toString('latin1'));
    return { bytes, text, secret };
  }

  /** The remote hash equals the hash of the secret once converged; and a remote file that still holds a secret (moving it out of a file) is not diffed either. */
  function secretOnHost(args: A, state: FileState, want: Desired, ctx: ModuleContext): boolean {
    return want.secret || (state.content !== undefined && ctx.hasSecret(state.content));
  }

  function plan(args: A, state: FileState, ctx: ModuleContext): Planned[] {
    const dest = ctx.redact(args.dest);
    // force: false leaves anything already there alone, as Ansible.
    if (!args.force && state.type !== 'absent') return [];
    if (state.type === 'directory') throw new ModuleError(`${name}: ${dest} is a directory; dest must name the file itself`);
    if (state.type === 'other') throw new ModuleError(`${name}: ${dest} exists and is not a regular file`);
    const want = desired(args, ctx);
    if (state.type === 'link') return replaceLink(args, state, want, ctx);
    const attrs = attrChanges(dest, args, state);
    const exists = state.type === 'file';
    if (exists && state.sha256 === sha256(want.bytes)) return attrPlans(attrs, ctx);

    let change: Change;
    if (secretOnHost(args, state, want, ctx)) {
      change = { summary: exists ? 'content changed (secret)' : `create ${dest} (secret)`, target: dest, secret: true };
    } else if (!exists) {
      change = { summary: `create ${dest} (${want.bytes.length} bytes)`, target: dest };
      if (want.text !== undefined && want.bytes.length <= DIFF_CONTENT_LIMIT) change.diff = unifiedDiff(dest, undefined, want.text);
    } else {
      change = { summary: 'content changed', target: dest };
      if (state.content !== undefined && want.text !== undefined && want.bytes.length <= DIFF_CONTENT_LIMIT) {
        change.diff = unifiedDiff(dest, state.content, want.text);
      } else {
        change.summary = `content changed (${state.size} → ${want.bytes.length} bytes, no diff for binary or large files)`;
      }
    }
    return [{ change, steps: writeSteps(args, state, want, exists, ctx) }, ...madeByWrite(attrs)];
  }

  /** The link is replaced like a file is created: a diff against nothing, attributes as asked, none kept from the target. */
  function replaceLink(args: A, state: FileState, want: Desired, ctx: ModuleContext): Planned[] {
    const dest = ctx.redact(args.dest);
    const what = `${dest} is a symlink to ${ctx.redact(state.target ?? '')}; will be replaced by a regular file`;
    const change: Change = want.secret ? { summary: `${what} (secret)`, target: dest, secret: true } : { summary: `${what} (${want.bytes.length} bytes)`, target: dest };
    if (!want.secret && want.text !== undefined && want.bytes.length <= DIFF_CONTENT_LIMIT) change.diff = unifiedDiff(dest, undefined, want.text);
    return [{ change, steps: writeSteps(args, state, want, true, ctx) }, ...madeByWrite(attrChanges(dest, args, { type: 'absent', umask: state.umask }))];
  }

  function writeSteps(args: A, state: FileState, want: Desired, exists: boolean, ctx: ModuleContext): Step[] {
    const steps: Step[] = [];
    if (args.validate !== undefined) steps.push(validateStep(args.validate, args.dest, want.bytes, ctx));
    if (args.backup && exists) {
      const backup = backupCommand(args.dest);
      steps.push({ kind: 'exec', command: backup, describe: ctx.redact(backup) });
    }
    steps.push(writeStep(args.dest, want.bytes, args, state, want.secret, ctx));
    return steps;
  }

  /** The args the task plans with: a dest the probe found to be a directory means DEST/<basename of src>. */
  function target(args: A, state: Probed<FileState>): A {
    const inDir = intoDirectory(args);
    return inDir !== undefined && state.known && state.state.inside ? { ...args, dest: posix.join(args.dest, inDir) } : args;
  }

  return defineModule<A, { file: FileState }>({
    ...declared,
    title: (args) => String(args.dest ?? ''),
    // Secret content is never fetched: the plan must not hold the old secret either.
    facts(given, ctx) {
      const args = withBasename(given);
      return { file: fileFact(args.dest, { hash: true, fetchLimit: desired(args, ctx).secret ? 0 : DIFF_CONTENT_LIMIT, inside: intoDirectory(args) }) };
    },
    plan: (given, facts, ctx) => plan(target(withBasename(given), facts.file), known(facts.file), ctx),
    secretFacts(given, facts, ctx) {
      if (!facts.file.known) return [];
      const args = target(withBasename(given), facts.file);
      return secretOnHost(args, facts.file.state, desired(args, ctx), ctx) ? ['file.sha256'] : [];
    },
  });
}

/** copy with a local src or inline content: what it shares with template. */
const localCopy = contentModule(
  {
    name: 'copy',
    summary: "a file on the host with the given content or a local file's bytes (compared by sha256, written atomically)",
    schema: copyArgs as z.ZodType<CopyArgs & { mode?: string }>,
  },
  (args, ctx) => (args.content !== undefined ? Buffer.from(args.content, 'utf8') : ctx.readLocal(args.src as string)),
);

/** `mode: preserve` of a local src: the mode the file has on the control machine, as Ansible's action reads it. */
function withLocalMode(args: CopyArgs, ctx: ModuleContext): CopyArgs & { mode?: string } {
  if (args.mode !== 'preserve') return args;
  if (!ctx.localMode) throw new ModuleError('copy: mode preserve cannot read the mode of a local file here');
  return { ...args, mode: ctx.localMode(args.src as string) };
}

function remoteArgs(args: CopyArgs): RemoteCopyArgs {
  const dest = args.dest.endsWith('/') ? args.dest + posix.basename(args.src as string) : args.dest;
  return { ...args, dest, src: args.src as string, preserveMode: args.mode === 'preserve', mode: args.mode === 'preserve' ? undefined : args.mode };
}

/** A local directory src (not remote_src, not content): what it copies where; undefined for a single file. */
function localTreeOf(args: CopyArgs, ctx: ModuleContext): TreeLayout | undefined {
  const src = args.src;
  if (args.remote_src || src === undefined) return undefined;
  return treeLayout({ src, dest: args.dest }, ctx);
}

/** One file of a directory src, as a copy of its own (`mode: preserve` keeps that file's mode). */
function fileOfTree(args: CopyArgs, file: { src: string; dest: string }, ctx: ModuleContext): CopyArgs & { mode?: string } {
  return withLocalMode({ ...args, src: file.src, dest: file.dest }, ctx);
}

type CopyFacts = Record<string, FileState>;

export const copy = defineModule<CopyArgs, CopyFacts>({
  name: 'copy',
  summary:
    "a file on the host with the given content, a local file's bytes, or (remote_src) another host file's bytes (compared by sha256, written atomically); a local directory src copies its tree",
  schema: copyArgs,
  differences: [
    'A directory src: `local_follow` is not an argument (symlinks inside the local tree are always followed, as its default true does; a link loop is refused); a missing DEST with missing parents gets its parents from `mkdir -p` with the umask default, not `directory_mode`; at most 1,000 files and directories per task.',
    'A directory src holding exactly one file: Ansible reports the result of its last call (on a directory), so a file it creates can show as ok; plumb reports changed.',
  ],
  title: localCopy.title,
  facts(args, ctx) {
    const tree = localTreeOf(args, ctx);
    if (tree) return treeFacts(tree, (f) => localCopy.facts(fileOfTree(args, f, ctx), ctx).file);
    if (!args.remote_src) return localCopy.facts(withLocalMode(args, ctx), ctx);
    const r = remoteArgs(args);
    return {
      file: fileFact(r.dest, { hash: true, fetchLimit: DIFF_CONTENT_LIMIT, ...(args.dest.endsWith('/') ? {} : { inside: posix.basename(r.src) }) }),
      source: remoteSourceFact(r.src),
    };
  },
  plan(args, facts, ctx) {
    const tree = localTreeOf(args, ctx);
    if (tree) return treePlan(args, tree, facts, (f, fact) => localCopy.plan(fileOfTree(args, f, ctx), { file: fact }, ctx), ctx);
    if (!args.remote_src) return localCopy.plan(withLocalMode(args, ctx), { file: facts.file }, ctx);
    const r = remoteArgs(args);
    const dest = known(facts.file);
    const target = dest.inside ? { ...r, dest: posix.join(r.dest, posix.basename(r.src)) } : r;
    return remoteCopyPlan(target, dest, known(facts.source), ctx);
  },
  secretFacts(args, facts, ctx) {
    const tree = localTreeOf(args, ctx);
    if (tree) {
      return tree.files.flatMap((f, i) =>
        (localCopy.secretFacts?.(fileOfTree(args, f, ctx), { file: facts[`f${i}`] }, ctx) ?? []).map((path) => path.replace(/^file\./, `f${i}.`)),
      );
    }
    if (!args.remote_src) return localCopy.secretFacts?.(withLocalMode(args, ctx), { file: facts.file }, ctx) ?? [];
    const texts = [facts.file, facts.source].map((f) => (f?.known ? (f.state.content ?? '') : ''));
    return texts.some((t) => ctx.hasSecret(t)) ? ['file.content', 'file.sha256', 'source.content', 'source.sha256'] : [];
  },
});
