/**
 * unarchive: unpack a tar (plain, gzip, bzip2, xz, zstd) or zip archive into an existing
 * directory — a local file (sent at apply) or, with `remote_src`, one already on the host.
 *
 * Idempotence is Ansible's: `creates` existing skips the task; otherwise GNU tar's own `--diff`
 * says whether dest already holds the archive (a missing member, or a member whose mtime, mode,
 * owner or group differs — the last three only when the task does not set them itself; tar's
 * diff of contents and sizes is ignored, as Ansible ignores it). The diff runs in the probe
 * (read-only); a local archive is piped into it from the probe itself, so it must be small
 * (ARCHIVE_INLINE_LIMIT). mode/owner/group apply to every member and to the top directories.
 * A zip needs `unzip` on the host; it is unpacked when a member is missing.
 */
import { z } from 'zod';
import { type ArchiveFormat, archiveFact, type ArchiveState, type MemberState, TAR_FLAGS } from '../facts/archive.js';
import { command, quote } from '../quote.js';
import { pathSchema, wordSchema } from './common.js';
import { fileAttrs, wantedMode } from './files.js';
import { type Change, defineModule, known, type ModuleContext, ModuleError, type Planned, type Step, UnknownState } from './types.js';

/** A local archive larger than this is not piped through the probe: copy it and use remote_src. */
export const ARCHIVE_INLINE_LIMIT = 2 * 1024 * 1024;

export const unarchiveArgs = z.strictObject({
  src: wordSchema.describe('the archive: a local file relative to the playbook, or with remote_src a path on the host'),
  dest: pathSchema.describe('absolute path of an existing directory to unpack into'),
  remote_src: z.boolean().default(false).describe('src is already on the host (not copied from the controller)'),
  creates: pathSchema.optional().describe('when this path exists, the task does nothing'),
  extra_opts: z.array(wordSchema).default([]).describe('more options for tar (or unzip), e.g. --strip-components=1; with tar they also apply to the comparison, as in Ansible'),
  ...fileAttrs,
});

export type UnarchiveArgs = z.output<typeof unarchiveArgs>;

/** The format a local archive's first bytes say it is. */
export function formatOf(bytes: Buffer): ArchiveFormat {
  const hex = bytes.subarray(0, 6).toString('hex');
  if (hex.startsWith('1f8b')) return 'gz';
  if (hex.startsWith('425a68')) return 'bz2';
  if (hex.startsWith('fd377a585a00')) return 'xz';
  if (hex.startsWith('28b52ffd')) return 'zst';
  if (hex.startsWith('504b0304') || hex.startsWith('504b0506')) return 'zip';
  return 'tar';
}

/** The member names of a zip, from its central directory. */
export function zipMembers(bytes: Buffer): string[] {
  const names: string[] = [];
  for (let i = 0; i + 46 <= bytes.length;) {
    if (bytes.readUInt32LE(i) !== 0x02014b50) {
      i++;
      continue;
    }
    const nameLength = bytes.readUInt16LE(i + 28);
    const extra = bytes.readUInt16LE(i + 30);
    const comment = bytes.readUInt16LE(i + 32);
    names.push(bytes.subarray(i + 46, i + 46 + nameLength).toString('utf8'));
    i += 46 + nameLength + extra + comment;
  }
  return names;
}

/** The options Ansible gives tar after the compression flag, for --diff and --extract. */
function tarOptions(args: UnarchiveArgs): string[] {
  return [
    ...(args.extra_opts.length ? ['--show-transformed-names', ...args.extra_opts] : []),
    ...(args.owner !== undefined ? [`--owner=${args.owner}`] : []),
    ...(args.group !== undefined ? [`--group=${args.group}`] : []),
  ];
}

function local(args: UnarchiveArgs, ctx: ModuleContext): Buffer {
  const bytes = ctx.readLocal(args.src);
  if (bytes.length > ARCHIVE_INLINE_LIMIT) {
    throw new ModuleError(
      `unarchive: ${args.src} is ${bytes.length} bytes, over the ${ARCHIVE_INLINE_LIMIT} a local archive may have: copy it to the host first and use remote_src`,
    );
  }
  return bytes;
}

/** The tar --diff lines that mean dest does not hold the archive, as Ansible filters them. */
function differences(args: UnarchiveArgs, diff: string[], root: boolean): string[] {
  return diff.filter((line) => {
    if (/: : Warning: Cannot stat: No such file or directory$/.test(line)) return false;
    if (/: Warning: Cannot stat: No such file or directory$/.test(line)) return true;
    if (/: Mod time differs$/.test(line) || /: Invalid (owner|group)/.test(line)) return true;
    if (root && args.owner === undefined && /: Uid differs$/.test(line)) return true;
    if (root && args.group === undefined && /: Gid differs$/.test(line)) return true;
    return args.mode === undefined && /: Mode differs$/.test(line);
  });
}

const safeName = (name: string) => name !== '' && !name.split('/').includes('..');

/** The members and top directories mode/owner/group apply to (Ansible's files_in_archive and top_folders). */
function attrPaths(members: MemberState[]): MemberState[] {
  const named = members.filter((m) => safeName(m.name));
  const tops = [...new Set(named.filter((m) => m.name.includes('/')).map((m) => m.name.split('/')[0]))];
  const byName = new Map(named.map((m) => [m.name.replace(/\/$/, ''), m]));
  return [...named, ...tops.filter((t) => !byName.has(t)).map((t) => ({ name: t, rawMode: null }) as MemberState)];
}

function ownerMatches(wanted: string, name: string | undefined, id: number | undefined): boolean {
  return /^\d+$/.test(wanted) ? Number(wanted) === id : wanted === name;
}

/** Whether an unpacked member already has the attributes the task asks for. */
function attrsOk(args: UnarchiveArgs, m: MemberState): boolean {
  if (m.rawMode === null) return false;
  const type = m.rawMode & 0o170000;
  if (type === 0o120000) return true; // a symlink's own mode cannot be set on Linux
  if (args.mode !== undefined) {
    const mode = (m.rawMode & 0o7777).toString(8).padStart(4, '0');
    const isDir = type === 0o040000;
    if (wantedMode(args.mode, { type: isDir ? 'directory' : 'file', mode }, isDir) !== mode) return false;
  }
  if (args.owner !== undefined && !ownerMatches(args.owner, m.owner, m.uid)) return false;
  if (args.group !== undefined && !ownerMatches(args.group, m.group, m.gid)) return false;
  return true;
}

function attrCommand(args: UnarchiveArgs, names: string[]): string {
  if (names.length === 0) return '';
  const parts: string[] = [];
  if (args.mode !== undefined) parts.push(command('chmod', args.mode, '--', ...names));
  if (args.owner !== undefined) parts.push(command('chown', '-h', '--', args.owner, ...names));
  if (args.group !== undefined) parts.push(command('chgrp', '-h', '--', args.group, ...names));
  return parts.length ? `cd ${quote(args.dest)} && ${parts.join(' && ')}` : '';
}

function extractCommand(args: UnarchiveArgs, format: ArchiveFormat): string {
  const dest = quote(args.dest);
  if (format === 'zip') {
    const unzip = (file: string) => `unzip -o -q ${command(...args.extra_opts)} ${file} -d ${dest}`.replace(/ +/g, ' ');
    if (args.remote_src) return unzip(quote(args.src));
    return [`t=$(mktemp) || exit 1`, `trap 'rm -f "$t"' EXIT`, 'cat > "$t"', unzip('"$t"')].join('\n');
  }
  const flag = TAR_FLAGS[format];
  const tar = `cd ${dest} && LC_ALL=C tar --extract -C ${dest} ${flag} ${command(...tarOptions(args))}`.replace(/ +/g, ' ').trim();
  return `${tar} -f ${args.remote_src ? quote(args.src) : '-'}`;
}

function plan(args: UnarchiveArgs, state: ArchiveState, uid: number | undefined, ctx: ModuleContext): Planned[] {
  const dest = ctx.redact(args.dest);
  const src = ctx.redact(args.src);
  if (state.status === 'creates') return [];
  if (state.status === 'nodest') throw new UnknownState(`unarchive: dest ${dest} is not a directory (yet)`);
  if (state.status === 'nosrc') throw new UnknownState(`unarchive: ${src} does not exist on the host (yet) or cannot be read`);
  if (state.status === 'nounzip') throw new ModuleError(`unarchive: ${src} is a zip archive and this host has no unzip: install the unzip package first`);
  const reasons = state.format === 'zip' ? state.members.filter((m) => m.rawMode === null).map((m) => `${m.name}: missing`) : differences(args, state.diff, uid === 0);
  const paths = attrPaths(state.members);
  const out: Planned[] = [];
  const wantsAttrs = args.mode !== undefined || args.owner !== undefined || args.group !== undefined;
  if (reasons.length > 0) {
    const more = reasons.length > 1 ? ` and ${reasons.length - 1} more` : '';
    const change: Change = { summary: `unpack ${src} into ${dest} (${ctx.redact(reasons[0])}${more})`, target: dest };
    const steps: Step[] = [{ kind: 'exec', command: extractCommand(args, state.format), describe: `unpack ${src} into ${dest}` }];
    if (!args.remote_src) (steps[0] as { stdin?: Buffer }).stdin = local(args, ctx);
    const after = attrCommand(
      args,
      paths.map((m) => m.name),
    );
    if (wantsAttrs && after) steps.push({ kind: 'exec', command: after, describe: ctx.redact(`set mode/owner/group of ${paths.length} unpacked paths`) });
    out.push({ change, steps });
    return out;
  }
  const wrong = wantsAttrs ? paths.filter((m) => !attrsOk(args, m)) : [];
  if (wrong.length > 0) {
    const what = [args.mode && `mode ${args.mode}`, args.owner && `owner ${args.owner}`, args.group && `group ${args.group}`].filter(Boolean).join(', ');
    const names = wrong.map((m) => m.name);
    out.push({
      change: { summary: ctx.redact(`${what} on ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`), target: `${dest} attributes` },
      steps: [{ kind: 'exec', command: attrCommand(args, names), describe: ctx.redact(`set ${what} on ${names.length} paths under ${args.dest}`) }],
    });
  }
  return out;
}

export const unarchive = defineModule<UnarchiveArgs, { archive: ArchiveState }>({
  name: 'unarchive',
  summary: 'unpack a tar (gz, bz2, xz, zst) or zip archive, local or already on the host, into a directory; idempotent by creates or GNU tar --diff',
  schema: unarchiveArgs,
  differences: [
    'A zip is unpacked again only when one of its members is missing (Ansible also compares size, time, CRC and mode of each); zip needs unzip on the host.',
    `A local archive over ${ARCHIVE_INLINE_LIMIT / 1024 / 1024} MiB is refused (it travels through the read-only probe for tar --diff): copy it to the host and use remote_src.`,
    "Not supported: a URL as src, `list_files`, `include`/`exclude`, `keep_newer`, `validate_certs` or Ansible's deprecated `copy` (refused when the playbook is checked).",
    "mode/owner/group are not applied to symlink members (Linux cannot set a link's mode).",
  ],
  title: (args) => String(args.dest ?? ''),
  facts(args, ctx) {
    const common = {
      dest: args.dest,
      ...(args.creates !== undefined ? { creates: args.creates } : {}),
      diffOptions: tarOptions(args),
      listOptions: args.extra_opts.length ? ['--show-transformed-names', ...args.extra_opts] : [],
    };
    if (args.remote_src) return { archive: archiveFact({ ...common, remote: args.src }) };
    const bytes = local(args, ctx);
    const format = formatOf(bytes);
    if (format === 'zip') return { archive: archiveFact({ ...common, format, members: zipMembers(bytes) }) };
    return { archive: archiveFact({ ...common, format, inline: bytes.toString('base64') }) };
  },
  plan: (args, facts, ctx) => {
    const state = known(facts.archive);
    return plan(args, state, state.status === 'read' ? state.uid : undefined, ctx);
  },
});
