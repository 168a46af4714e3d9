/**
 * Issue 15: the files and directories under a local directory, for copy with a directory `src`.
 * Symlinks are followed, as Ansible's default `local_follow: true` does: a link to a file is
 * copied as that file's bytes, a link to a directory is walked as a directory. A link back to a
 * directory being walked would never end, so it is refused with its path.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { PlumbError } from './errors.js';

/** The most entries (files and directories) one copy task walks: a larger tree is the wrong directory. */
export const LOCAL_TREE_LIMIT = 1000;

export interface LocalTree {
  /** Relative paths (with /), each directory before what it holds, sorted by name within it. */
  directories: string[];
  files: string[];
}

export class LocalTreeError extends PlumbError {
  constructor(path: string, reason: string) {
    super(`cannot copy the local directory ${path}: ${reason}`);
    this.name = 'LocalTreeError';
  }
}

/** The tree under `root`, or undefined when `root` is not a directory (a file src, or a missing one the read reports). */
export function localTree(root: string): LocalTree | undefined {
  let top;
  try {
    top = statSync(root);
  } catch {
    return undefined;
  }
  if (!top.isDirectory()) return undefined;
  const tree: LocalTree = { directories: [], files: [] };
  walk(root, '', new Set([realpathSync(root)]), tree, root);
  return tree;
}

function walk(dir: string, rel: string, ancestors: Set<string>, tree: LocalTree, root: string): void {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    const relPath = rel === '' ? name : posix.join(rel, name);
    let st;
    try {
      st = statSync(full);
    } catch {
      throw new LocalTreeError(root, `${relPath} is a dangling symlink or cannot be read`);
    }
    if (tree.directories.length + tree.files.length >= LOCAL_TREE_LIMIT) {
      throw new LocalTreeError(root, `it holds more than ${LOCAL_TREE_LIMIT} files and directories (the most one copy task copies)`);
    }
    if (st.isDirectory()) {
      const real = realpathSync(full);
      if (ancestors.has(real)) throw new LocalTreeError(root, `${relPath} is a symlink to a directory that contains it (a loop)`);
      tree.directories.push(relPath);
      walk(full, relPath, new Set([...ancestors, real]), tree, root);
    } else if (st.isFile()) {
      tree.files.push(relPath);
    } else {
      throw new LocalTreeError(root, `${relPath} is neither a regular file nor a directory`);
    }
  }
}
