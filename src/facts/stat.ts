/**
 * The stat fact: what Ansible's `stat` module reports of a path — type, mode, owner, size,
 * times, link target, access for the connecting user, and optionally a checksum of a regular
 * file. Read-only. With `follow`, a symlink is described by what it points to (stat -L), as
 * Ansible's `follow: true`; without, the link itself, and nothing behind it is read.
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef, type Probed } from './types.js';

export const CHECKSUM_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface StatParams {
  path: string;
  follow: boolean;
  /** Checksum a regular file with this algorithm; null: no checksum. */
  checksum: ChecksumAlgorithm | null;
}

export interface StatState {
  exists: boolean;
  /** st_mode as a number (type and permission bits). */
  rawMode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  owner?: string;
  group?: string;
  mtime?: number;
  ctime?: number;
  inode?: number;
  dev?: number;
  nlink?: number;
  blocks?: number;
  blockSize?: number;
  /** readlink of a symlink (not followed). */
  linkTarget?: string;
  /** Where a symlink resolves to (readlink -f). */
  linkSource?: string;
  readable?: boolean;
  writeable?: boolean;
  executable?: boolean;
  checksum?: string;
}

export function statProbe({ path, follow, checksum }: StatParams): string {
  const l = follow ? '-L ' : '';
  const lines = [
    `p=${quote(path)}`,
    // Followed, a dangling link does not exist (Ansible's os.stat fails the same way).
    follow ? 'if [ -e "$p" ]; then' : 'if [ -e "$p" ] || [ -L "$p" ]; then',
    `  stat ${l}-c 'stat %f %u %g %s %.9Y %.9Z %i %d %h %b %B %U %G' -- "$p" 2>/dev/null`,
    '  if [ -L "$p" ]; then',
    '    printf \'target \'; readlink -n -- "$p" | base64 -w 0; echo',
    '    printf \'source \'; readlink -f -- "$p" | tr -d "\\n" | base64 -w 0; echo',
    '  fi',
    '  a=; [ -r "$p" ] && a="${a}r"; [ -w "$p" ] && a="${a}w"; [ -x "$p" ] && a="${a}x"; echo "access $a"',
  ];
  if (checksum !== null) {
    // A link not followed is never read; a followed one is read through, as Ansible's follow: true.
    const guard = follow ? '[ -f "$p" ]' : '[ -f "$p" ] && [ ! -L "$p" ]';
    lines.push(`  if ${guard} && [ -r "$p" ]; then s=$(${checksum}sum < "$p" 2>/dev/null) && echo "checksum \${s%% *}"; fi`);
  }
  lines.push('else', '  echo absent', 'fi');
  return lines.join('\n');
}

const int = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
const time = (s: string | undefined) => (s !== undefined && /^\d+(\.\d+)?$/.test(s) ? Number(s) : undefined);

export function parseStat(path: string, stdout: string): Probed<StatState> {
  const state: StatState = { exists: false };
  let saw = false;
  for (const line of stdout.split('\n')) {
    const [key, ...rest] = line.split(' ');
    if (line === 'absent') {
      return { known: true, state: { exists: false } };
    } else if (key === 'stat' && rest.length >= 13) {
      const [mode, uid, gid, size, mtime, ctime, inode, dev, nlink, blocks, blockSize, owner, group] = rest;
      if (!/^[0-9a-f]+$/.test(mode)) break;
      saw = true;
      Object.assign(state, {
        exists: true,
        rawMode: parseInt(mode, 16),
        uid: int(uid),
        gid: int(gid),
        size: int(size),
        mtime: time(mtime),
        ctime: time(ctime),
        inode: int(inode),
        dev: int(dev),
        nlink: int(nlink),
        blocks: int(blocks),
        blockSize: int(blockSize),
        // stat prints UNKNOWN for an id without a name; Ansible then has no name either.
        ...(owner !== 'UNKNOWN' ? { owner } : {}),
        ...(group !== 'UNKNOWN' ? { group } : {}),
      });
    } else if (key === 'target') {
      state.linkTarget = Buffer.from(rest.join(''), 'base64').toString('utf8');
    } else if (key === 'source') {
      state.linkSource = Buffer.from(rest.join(''), 'base64').toString('utf8');
    } else if (key === 'access') {
      const a = rest[0] ?? '';
      Object.assign(state, { readable: a.includes('r'), writeable: a.includes('w'), executable: a.includes('x') });
    } else if (key === 'checksum' && /^[0-9a-f]{32,128}$/.test(rest[0] ?? '')) {
      state.checksum = rest[0];
    }
  }
  if (!saw) return { known: false, reason: `cannot stat ${path} (a dangling link with follow, or permission denied?)` };
  return { known: true, state };
}

export function statFact(params: StatParams): FactRef<StatState> {
  return fact(stat, params);
}

export const stat: Fact<StatParams, StatState> = {
  name: 'stat',
  summary: "what Ansible's stat reports of a path: type, mode, owner, size, times, link target, access, optionally a checksum",
  probe: statProbe,
  parse: (p, out) => parseStat(p.path, out.stdout),
};
