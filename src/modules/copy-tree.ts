/**
 * Issue 15: copy with a local directory as `src`, as Ansible's copy action does it. `src: dir`
 * copies the directory itself (DEST/dir/...), `src: dir/` its contents (DEST/...). One task plans
 * one change per file and directory: each file is a copy as copy makes it (the task's mode, owner
 * and group; compared by sha256), each directory the tree holds is created with `directory_mode`
 * (else what the umask gives) and has `directory_mode`, owner and group applied when it exists,
 * as Ansible's file module call does. DEST (and DEST/dir) are only created when missing. Every
 * destination path is one fact of the task, so all of them join the one probe batch.
 */
import { posix } from 'node:path';
import { attrChanges, attrPlans, type Attrs, fileFact, type FileState } from './files.js';
import { command } from '../quote.js';
import { type FactRef, type FactValues, known, type ModuleContext, ModuleError, type Planned } from './types.js';

/** The arguments that decide the directories' attributes. */
export interface TreeCopyArgs extends Attrs {
  directory_mode?: string;
}

export interface TreeLayout {
  /** Directories created only when missing: DEST, and DEST/dir for `src: dir`. */
  roots: string[];
  /** Directories of the tree, on the host: created, or their attributes applied. */
  directories: string[];
  /** Files: the local path (as the task names it) and the path on the host. */
  files: Array<{ src: string; dest: string }>;
}

/** What a directory src copies where; undefined when src is not a local directory. */
export function treeLayout(args: { src: string; dest: string }, ctx: ModuleContext): TreeLayout | undefined {
  const tree = ctx.localTree?.(args.src);
  if (tree === undefined) return undefined;
  const contents = args.src.endsWith('/');
  const dest = args.dest.length > 1 ? args.dest.replace(/\/+$/, '') : args.dest;
  const base = contents ? dest : posix.join(dest, posix.basename(args.src.replace(/\/+$/, '')));
  const srcDir = args.src.replace(/\/+$/, '');
  return {
    roots: contents ? [dest] : [dest, base],
    directories: tree.directories.map((d) => posix.join(base, d)),
    files: tree.files.map((f) => ({ src: `${srcDir}/${f}`, dest: posix.join(base, f) })),
  };
}

/** Fact names: r0.. for roots, d0.. for directories (no hash needed), f0.. for files (given by `fileFacts`). */
export function treeFacts(layout: TreeLayout, fileFacts: (file: { src: string; dest: string }) => FactRef<FileState>): Record<string, FactRef<FileState>> {
  const facts: Record<string, FactRef<FileState>> = {};
  layout.roots.forEach((p, i) => (facts[`r${i}`] = fileFact(p, { hash: false })));
  layout.directories.forEach((p, i) => (facts[`d${i}`] = fileFact(p, { hash: false })));
  layout.files.forEach((f, i) => (facts[`f${i}`] = fileFacts(f)));
  return facts;
}

type TreeFacts = FactValues<Record<string, FileState>>;

/** The whole plan: directories first (parents before what they hold), then each file as `planFile` plans it. */
export function treePlan(
  args: TreeCopyArgs,
  layout: TreeLayout,
  facts: TreeFacts,
  planFile: (file: { src: string; dest: string }, fact: TreeFacts[string]) => Planned[],
  ctx: ModuleContext,
): Planned[] {
  const wanted: Attrs = { mode: args.directory_mode, owner: args.owner, group: args.group };
  const out: Planned[] = [];
  layout.roots.forEach((p, i) => out.push(...directoryPlan(p, known(facts[`r${i}`]), wanted, false, ctx)));
  layout.directories.forEach((p, i) => out.push(...directoryPlan(p, known(facts[`d${i}`]), wanted, true, ctx)));
  layout.files.forEach((f, i) => out.push(...planFile(f, facts[`f${i}`])));
  return out;
}

/** A missing directory is made with the attributes asked; an existing one of the tree gets them too, a root keeps its own. */
function directoryPlan(path: string, state: FileState, wanted: Attrs, ofTree: boolean, ctx: ModuleContext): Planned[] {
  const shown = ctx.redact(path);
  if (state.type === 'absent') {
    const make = command('mkdir', '-p', '--', path);
    return [
      {
        change: { summary: `create directory ${shown}`, target: shown, before: 'absent', after: 'directory' },
        steps: [{ kind: 'exec', command: make, describe: ctx.redact(make) }],
      },
      ...attrPlans(attrChanges(shown, wanted, state, true), ctx),
    ];
  }
  if (state.type !== 'directory') throw new ModuleError(`copy: ${shown} exists and is not a directory; a directory src needs one there`);
  return ofTree ? attrPlans(attrChanges(shown, wanted, state, true), ctx) : [];
}
