/**
 * The tree-attrs fact of file's `recurse`: whether anything under a directory (itself included)
 * has another owner, group or mode than asked. Symlinks count for owner and group (chown -h
 * changes the link) but not for mode (a link has none of its own). A path that is itself a link is
 * walked at its target (-H), as file's `follow` manages the target.
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef } from './types.js';

export interface TreeAttrsParams {
  path: string;
  owner?: string;
  group?: string;
  /** Octal, four digits. */
  mode?: string;
}

export interface TreeAttrs {
  owner?: boolean;
  group?: boolean;
  mode?: boolean;
}

/** One line per attribute asked: `owner 1` when some entry differs, `owner 0` when none does. */
function probe({ path, owner, group, mode }: TreeAttrsParams): string {
  const p = quote(path);
  const check = (name: string, test: string) => `if [ -n "$(find -H ${p} ${test} -print -quit 2>/dev/null)" ]; then echo '${name} 1'; else echo '${name} 0'; fi`;
  const lines: string[] = [];
  if (owner !== undefined) lines.push(check('owner', `! -user ${quote(owner)}`));
  if (group !== undefined) lines.push(check('group', `! -group ${quote(group)}`));
  if (mode !== undefined) lines.push(check('mode', `! -type l ! -perm ${quote(mode)}`));
  return lines.join('\n') || 'true';
}

export const treeAttrs: Fact<TreeAttrsParams, TreeAttrs> = {
  name: 'tree-attrs',
  summary: 'whether anything under a directory has another owner, group or mode than asked (file recurse)',
  probe,
  parse(p, { stdout }) {
    const state: TreeAttrs = {};
    for (const key of ['owner', 'group', 'mode'] as const) {
      if (p[key] === undefined) continue;
      const m = new RegExp(`^${key} ([01])$`, 'm').exec(stdout);
      if (!m) return { known: false, reason: `unexpected probe output for ${p.path}: ${JSON.stringify(stdout.slice(0, 80))}` };
      state[key] = m[1] === '1';
    }
    return { known: true, state };
  },
};

export function treeAttrsFact(params: TreeAttrsParams): FactRef<TreeAttrs> {
  return fact(treeAttrs, params);
}
