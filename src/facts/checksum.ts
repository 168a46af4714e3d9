/**
 * The checksum fact: a digest (md5 … sha512) of one regular file, or of DIR/NAME when the path
 * is a directory (get_url's dest directory). Read-only; a symlink is never read through.
 */
import { quote } from '../quote.js';
import type { ChecksumAlgorithm } from './stat.js';
import { fact, type Fact, type FactRef, type Probed } from './types.js';

export interface ChecksumParams {
  path: string;
  algorithm: ChecksumAlgorithm;
  /** When `path` is a directory (not a link to one), digest PATH/NAME instead. */
  inside?: string;
}

/** The hex digest, or null when there is no regular file to digest. */
export type ChecksumState = { digest: string | null };

function probe({ path, algorithm, inside }: ChecksumParams): string {
  return [
    `p=${quote(path)}`,
    ...(inside === undefined ? [] : [`if [ -d "$p" ] && [ ! -L "$p" ]; then p="$p"/${quote(inside)}; fi`]),
    'if [ -f "$p" ] && [ ! -L "$p" ]; then',
    `  if s=$(${algorithm}sum < "$p" 2>/dev/null); then echo "digest \${s%% *}"; else echo unreadable; fi`,
    'else echo none; fi',
  ].join('\n');
}

function parse(p: ChecksumParams, stdout: string): Probed<ChecksumState> {
  const line = stdout.split('\n')[0] ?? '';
  if (line === 'none') return { known: true, state: { digest: null } };
  const m = /^digest ([0-9a-f]{32,128})$/.exec(line);
  if (m) return { known: true, state: { digest: m[1] } };
  return { known: false, reason: `cannot read ${p.path} to checksum it (permission denied?)` };
}

export const checksum: Fact<ChecksumParams, ChecksumState> = {
  name: 'checksum',
  summary: 'the md5/sha1/sha224/sha256/sha384/sha512 digest of a regular file (of DIR/NAME when the path is a directory)',
  probe,
  parse: (p, out) => parse(p, out.stdout),
};

export function checksumFact(params: ChecksumParams): FactRef<ChecksumState> {
  return fact(checksum, params.inside === undefined ? { path: params.path, algorithm: params.algorithm } : params);
}
