/**
 * The link-source fact of file's `state: link|hard`: whether the link's source exists (a relative
 * source is taken from the link's directory, as the kernel resolves it) and whether the path
 * already is the same file as the source (a hard link made before).
 */
import { posix } from 'node:path';
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef } from './types.js';

export interface LinkSourceParams {
  path: string;
  src: string;
}

export interface LinkSource {
  exists: boolean;
  /** path and src are one file (same device and inode), path not being a symlink. */
  same: boolean;
}

export const linkSource: Fact<LinkSourceParams, LinkSource> = {
  name: 'link-source',
  summary: "whether a link's source exists (relative to the link's directory) and whether the path already is that file",
  probe: ({ path, src }) =>
    [
      `if cd -- ${quote(posix.dirname(path))} 2>/dev/null; then`,
      `  if [ -e ${quote(src)} ]; then echo 'exists 1'; else echo 'exists 0'; fi`,
      `  if [ ! -L ${quote(path)} ] && [ ${quote(path)} -ef ${quote(src)} ]; then echo 'same 1'; else echo 'same 0'; fi`,
      `else echo 'exists 0'; echo 'same 0'; fi`,
    ].join('\n'),
  parse(_p, { stdout }) {
    const exists = /^exists ([01])$/m.exec(stdout);
    const same = /^same ([01])$/m.exec(stdout);
    if (!exists || !same) return { known: false, reason: `unexpected probe output: ${JSON.stringify(stdout.slice(0, 80))}` };
    return { known: true, state: { exists: exists[1] === '1', same: same[1] === '1' } };
  },
};

export function linkSourceFact(path: string, src: string): FactRef<LinkSource> {
  return fact(linkSource, { path, src });
}
