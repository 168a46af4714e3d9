/**
 * The archive fact of unarchive: how a tar archive compares with the directory it unpacks into,
 * read with GNU tar's own `--diff` (read-only: it reads the archive and the files under dest),
 * and the current type, mode and owner of each member under dest. A local archive travels
 * inside the probe (base64, piped to tar); a remote one is read where it is. A zip is listed
 * with `unzip -Z1` (a remote one) or from the names the controller read (a local one).
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef, type Probed } from './types.js';

export type ArchiveFormat = 'gz' | 'bz2' | 'xz' | 'zst' | 'tar' | 'zip';

export interface ArchiveParams {
  dest: string;
  creates?: string;
  /** A path on the host (remote_src), or the archive's bytes in base64 (a local src). */
  remote?: string;
  inline?: string;
  /** Known for a local archive; found by the probe for a remote one. */
  format?: ArchiveFormat;
  /** A local zip's member names, read by the controller. */
  members?: string[];
  /** tar options after the compression flag, as Ansible passes them (extra_opts, --owner=, --group=). */
  diffOptions: string[];
  listOptions: string[];
}

export interface MemberState {
  name: string;
  /** null: not under dest. */
  rawMode: number | null;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
}

export type ArchiveState =
  | { status: 'creates' }
  | { status: 'nodest' }
  | { status: 'nosrc' }
  | { status: 'nounzip' }
  | {
      status: 'read';
      format: ArchiveFormat;
      diffCode: number;
      diff: string[];
      members: MemberState[];
      /** The probing user (tar --diff reports owners only to root, as Ansible reads it). */ uid?: number;
    };

export const TAR_FLAGS: Record<Exclude<ArchiveFormat, 'zip'>, string> = { gz: '-z', bz2: '-j', xz: '-J', zst: '--zstd', tar: '' };

/** The magic numbers Ansible's handlers effectively tell apart, by their hex prefix. */
const MAGIC_CASES = 'case "$magic" in 1f8b*) fmt=gz;; 425a68*) fmt=bz2;; fd377a585a00*) fmt=xz;; 28b52ffd*) fmt=zst;; 504b0304*|504b0506*) fmt=zip;; *) fmt=tar;; esac';

function tarWith(params: ArchiveParams, verb: string, options: string[]): string {
  const opts = options.map(quote).join(' ');
  const flag = params.format === undefined ? '$f' : TAR_FLAGS[params.format as Exclude<ArchiveFormat, 'zip'>];
  const cmd = `LC_ALL=C tar ${verb} -C "$d" ${flag} ${opts}`.replace(/ +/g, ' ').trim();
  if (params.inline !== undefined) return `printf %s "$a" | base64 -d | ${cmd} -f -`;
  return `${cmd} -f "$s"`;
}

/** Prints one line per member: `m NAME_BASE64 RAWMODE_HEX UID GID OWNER GROUP`, or `m NAME_BASE64 -`. */
const MEMBER_LOOP = "while IFS= read -r m; do m=${m#/}; printf 'm '; printf %s \"$m\" | base64 -w 0; printf ' '; stat -c '%f %u %g %U %G' -- \"$d/$m\" 2>/dev/null || echo -; done";

function probe(params: ArchiveParams): string {
  const lines = ['echo "uid $(id -u)"', `d=${quote(params.dest)}`];
  if (params.inline !== undefined) lines.push(`a=${quote(params.inline)}`);
  if (params.remote !== undefined) lines.push(`s=${quote(params.remote)}`);
  const checks = [
    ...(params.creates !== undefined ? [`if [ -e ${quote(params.creates)} ]; then echo creates`] : []),
    'if [ ! -d "$d" ]; then echo nodest',
    ...(params.remote !== undefined ? ['elif [ ! -f "$s" ] || [ ! -r "$s" ]; then echo nosrc'] : []),
  ];
  lines.push(checks.map((c, i) => (i === 0 ? c : c.replace(/^if /, 'elif '))).join('\n'), 'else');
  if (params.format === undefined) {
    lines.push(
      `  magic=$(od -An -tx1 -N6 -- "$s" | tr -d ' \\n')`,
      `  ${MAGIC_CASES}`,
      '  case $fmt in gz) f=-z;; bz2) f=-j;; xz) f=-J;; zst) f=--zstd;; *) f=;; esac',
      '  echo "format $fmt"',
    );
  } else {
    lines.push(`  fmt=${params.format}`);
  }
  const zip = [
    '    if ! command -v unzip >/dev/null 2>&1; then echo nounzip',
    params.members !== undefined
      ? `    else echo 'rc 0'; printf '%s\\n' ${params.members.map(quote).join(' ')} | ${MEMBER_LOOP}`
      : `    else echo 'rc 0'; unzip -Z1 "$s" 2>/dev/null | ${MEMBER_LOOP}`,
    '    fi',
  ];
  const tar = [
    `    o=$(cd "$d" && ${tarWith(params, '--diff', params.diffOptions)} 2>&1); echo "rc $?"`,
    '    printf \'diff \'; printf %s "$o" | base64 -w 0; echo',
    `    (cd "$d" && ${tarWith(params, '--list', params.listOptions)}) 2>/dev/null | ${MEMBER_LOOP}`,
  ];
  // A local archive's format is known: only its branch goes into the probe.
  if (params.format === 'zip') lines.push(...zip);
  else if (params.format !== undefined) lines.push(...tar);
  else lines.push('  if [ "$fmt" = zip ]; then', ...zip, '  else', ...tar, '  fi');
  lines.push('fi');
  return lines.join('\n');
}

const FORMATS = new Set<string>(['gz', 'bz2', 'xz', 'zst', 'tar', 'zip']);

function parse(params: ArchiveParams, stdout: string): Probed<ArchiveState> {
  for (const line of stdout.split('\n')) {
    if (line === 'creates' || line === 'nodest' || line === 'nosrc' || line === 'nounzip') return { known: true, state: { status: line } };
  }
  let uid: number | undefined;
  let format = params.format;
  let diffCode: number | undefined;
  let diff: string[] = [];
  const members: MemberState[] = [];
  for (const line of stdout.split('\n')) {
    const [key, ...rest] = line.split(' ');
    if (key === 'uid' && /^\d+$/.test(rest[0] ?? '')) uid = Number(rest[0]);
    else if (key === 'format' && FORMATS.has(rest[0])) format = rest[0] as ArchiveFormat;
    else if (key === 'rc' && /^\d+$/.test(rest[0] ?? '')) diffCode = Number(rest[0]);
    else if (key === 'diff') diff = Buffer.from(rest.join(''), 'base64').toString('utf8').split('\n').filter(Boolean);
    else if (key === 'm' && rest.length >= 2) {
      const name = Buffer.from(rest[0], 'base64').toString('utf8');
      if (rest[1] === '-') members.push({ name, rawMode: null });
      else if (/^[0-9a-f]+$/.test(rest[1]) && rest.length >= 6) {
        const [mode, uid, gid, owner, group] = rest.slice(1);
        members.push({ name, rawMode: parseInt(mode, 16), uid: Number(uid), gid: Number(gid), owner, group });
      }
    }
  }
  if (format === undefined || diffCode === undefined) return { known: false, reason: `cannot read the archive for ${params.dest} (unexpected probe output)` };
  if (format !== 'zip' && members.length === 0) return { known: false, reason: `tar found no files in the archive for ${params.dest} (empty or not an archive)` };
  return { known: true, state: { status: 'read', format, diffCode, diff, members, ...(uid !== undefined ? { uid } : {}) } };
}

export const archive: Fact<ArchiveParams, ArchiveState> = {
  name: 'archive',
  summary: "how an archive compares with the directory it unpacks into (GNU tar --diff, or a zip's member list) and each member's type, mode and owner there",
  probe,
  parse: (p, out) => parse(p, out.stdout),
};

export function archiveFact(params: ArchiveParams): FactRef<ArchiveState> {
  return fact(archive, params);
}
