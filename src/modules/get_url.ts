/**
 * get_url: a file on the host downloaded from a URL, by the host itself (curl, else wget, else
 * python3's urllib; a host with none of them fails with a message naming them). The plan stays
 * read-only: it never fetches anything. It decides from what is on the host, as Ansible does
 * before it downloads:
 * - with a `checksum`, dest whose digest matches is ok (only mode/owner/group may change);
 *   otherwise the file is fetched, checked against the digest and only then moved into place;
 * - without one, an existing dest is ok unless `force: true` (then it is fetched every run).
 * The download goes to a temporary file beside dest and is renamed over it, so dest is never
 * half-written. A dest that is a directory gets the URL's last path segment as its file name.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { checksumFact, type ChecksumState } from '../facts/checksum.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../facts/stat.js';
import { command, quote } from '../quote.js';
import { pathSchema } from './common.js';
import { attrChanges, attrPlans, fileAttrs, fileFact, type FileState, madeByWrite, writeAttrs } from './files.js';
import { type Change, defineModule, known, type ModuleContext, ModuleError, type Planned, type Step } from './types.js';

const URL_SCHEMES = /^(https?|ftp|file):\/\/[^\s]+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** `sha256:abc…` → algorithm and lower-case hex, as Ansible reads it (a URL to a checksum file is not supported). */
export function parseChecksum(spec: string): { algorithm: ChecksumAlgorithm; digest: string } | string {
  const i = spec.indexOf(':');
  if (i < 0) return 'checksum must be ALGORITHM:HEX, e.g. sha256:9f86d08…';
  const algorithm = spec.slice(0, i);
  const digest = spec
    .slice(i + 1)
    .replace(/[^0-9A-Za-z]+/g, '')
    .toLowerCase();
  if (/^(https?|ftp|file):/.test(spec.slice(i + 1))) return 'checksum from a URL (a SHA256SUMS file) is not supported: give the digest itself';
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) return `checksum algorithm must be one of ${CHECKSUM_ALGORITHMS.join(', ')}`;
  const lengths: Record<string, number> = { md5: 32, sha1: 40, sha224: 56, sha256: 64, sha384: 96, sha512: 128 };
  if (!/^[0-9a-f]+$/.test(digest) || digest.length !== lengths[algorithm]) return `checksum: not a ${algorithm} hex digest (${lengths[algorithm]} hex digits)`;
  return { algorithm: algorithm as ChecksumAlgorithm, digest };
}

export const getUrlArgs = z.strictObject({
  url: z
    .string()
    .regex(URL_SCHEMES, 'url must be an http://, https://, ftp:// or file:// URL without spaces')
    .describe('what to download (http, https, ftp or file URL); fetched by the host itself'),
  dest: pathSchema.describe('absolute path of the file on the host; an existing directory gets the last segment of the URL as the file name'),
  checksum: z
    .string()
    .superRefine((s, ctx) => {
      const parsed = parseChecksum(s);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    })
    .optional()
    .describe(
      'ALGORITHM:HEX (md5, sha1, sha224, sha256, sha384, sha512): dest with this digest is not fetched again; a download with another digest fails and dest is left as it was',
    ),
  force: z.boolean().default(false).describe('fetch every run even when dest exists (without a checksum, an existing dest is otherwise left alone)'),
  headers: z
    .record(z.string().regex(HEADER_NAME, 'not an HTTP header name'), z.string().regex(/^[^\r\n\0]*$/, 'a header value cannot contain a line break'))
    .optional()
    .describe('HTTP request headers, name → value (values are redacted when they hold a secret)'),
  timeout: z.number().int().positive().default(10).describe('seconds to wait for the connection and between received data'),
  ...fileAttrs,
});

export type GetUrlArgs = z.output<typeof getUrlArgs>;

/** As Ansible's url_filename: the last segment of the URL's path, index.html when there is none. */
export function urlFileName(url: string): string {
  const path = url.replace(/^[a-z]+:\/\/[^/]*/, '').replace(/[?#].*$/, '');
  return posix.basename(path) || 'index.html';
}

/** Writes the response body to stdout; no third-party code on the host, only the standard library. */
const PYTHON_FETCH = [
  'import shutil, sys, urllib.request as u',
  "r = u.Request(sys.argv[1], headers=dict(h.split(': ', 1) for h in sys.argv[3:]))",
  'try:',
  '    with u.urlopen(r, timeout=float(sys.argv[2])) as f: shutil.copyfileobj(f, sys.stdout.buffer)',
  "except Exception as e: sys.exit('get_url: download failed: %s' % e)",
].join('\n');

/** Shell that fetches `url` into "$t" with whichever downloader the host has. */
export function fetchCommand(url: string, headers: Record<string, string>, timeout: number): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  const curl =
    command('curl', '-fsSL', '--connect-timeout', timeout, '--speed-limit', 1, '--speed-time', timeout, ...lines.flatMap((h) => ['-H', h]), '-o') + ` "$t" ${quote(url)}`;
  const wget = command('wget', '-q', '-T', timeout, ...lines.map((h) => `--header=${h}`), '-O') + ` "$t" ${quote(url)}`;
  const python = `${command('python3', '-c', PYTHON_FETCH, url, timeout, ...lines)} > "$t"`;
  return [
    `if command -v curl >/dev/null 2>&1; then ${curl}`,
    `elif command -v wget >/dev/null 2>&1; then ${wget}`,
    `elif command -v python3 >/dev/null 2>&1; then ${python}`,
    "else echo 'get_url: cannot download on this host: none of curl, wget or python3 is installed' >&2; exit 127; fi",
  ].join('\n');
}

/** A new file's mode when the probe could not tell the umask: what the apply shell's umask gives. */
const UMASK_MODE = '"$(printf %04o $((0666 & ~0$(umask))))"';

function downloadStep(args: GetUrlArgs, dest: string, state: FileState, ctx: ModuleContext): Step {
  const attrs = writeAttrs(args, state.type === 'file' ? state : { type: 'absent', umask: state.umask });
  const sum = args.checksum === undefined ? undefined : (parseChecksum(args.checksum) as { algorithm: ChecksumAlgorithm; digest: string });
  const template = quote(posix.join(posix.dirname(dest), `.${posix.basename(dest)}.plumb-XXXXXXXX`));
  const script = [
    `t=$(mktemp ${template}) || exit 1`,
    `trap 'rm -f "$t"' EXIT`,
    `{\n${fetchCommand(args.url, args.headers ?? {}, args.timeout)}\n} || exit 1`,
    ...(sum
      ? [
          `s=$(${sum.algorithm}sum < "$t") || exit 1`,
          `if [ "\${s%% *}" != ${sum.digest} ]; then echo "get_url: the download's ${sum.algorithm} is \${s%% *}, not ${sum.digest}; dest left as it was" >&2; exit 1; fi`,
        ]
      : []),
    `chmod ${attrs.mode ?? UMASK_MODE} "$t"`,
    ...(attrs.owner !== undefined ? [`chown -- ${quote(attrs.owner)} "$t"`] : []),
    ...(attrs.group !== undefined ? [`chgrp -- ${quote(attrs.group)} "$t"`] : []),
    `mv -f -- "$t" ${quote(dest)}`,
  ].join('\n');
  return { kind: 'exec', command: script, describe: `download ${ctx.redact(args.url)} to ${ctx.redact(dest)}${sum ? ` (${sum.algorithm} checked)` : ''}` };
}

function plan(args: GetUrlArgs, file: FileState, sum: ChecksumState | undefined, ctx: ModuleContext): Planned[] {
  const dest = file.inside ? posix.join(args.dest, urlFileName(args.url)) : args.dest;
  const shown = ctx.redact(dest);
  if (file.type === 'directory') throw new ModuleError(`get_url: ${shown} is a directory`);
  if (file.type === 'other') throw new ModuleError(`get_url: ${shown} exists and is not a regular file`);
  if (file.type === 'link')
    throw new ModuleError(`get_url: ${shown} is a symlink to ${ctx.redact(file.target ?? '')}; plumb does not download through links: point dest at the target`);
  const wanted = args.checksum === undefined ? undefined : (parseChecksum(args.checksum) as { digest: string }).digest;
  const exists = file.type === 'file';
  const attrs = attrChanges(shown, args, file);
  if (exists) {
    const matches = wanted !== undefined && sum?.digest === wanted;
    // A matching digest means a new download would be these very bytes, forced or not.
    if (matches || (wanted === undefined && !args.force)) return attrPlans(attrs, ctx);
  }
  const url = ctx.redact(args.url);
  let change: Change;
  if (!exists) change = { summary: `download ${url} to ${shown}`, target: shown };
  else if (wanted !== undefined) change = { summary: `download ${url} again: ${shown} has another checksum`, target: shown, before: sum?.digest, after: wanted };
  else change = { summary: `download ${url} again (force: fetched every run)`, target: shown };
  return [{ change, steps: [downloadStep(args, dest, file, ctx)] }, ...madeByWrite(attrChanges(shown, args, exists ? file : { type: 'absent', umask: file.umask }))];
}

export const get_url = defineModule<GetUrlArgs, { file: FileState; sum?: ChecksumState }>({
  name: 'get_url',
  summary: 'a file downloaded by the host from an http(s)/ftp/file URL, checked against a checksum, written atomically with mode/owner/group',
  schema: getUrlArgs,
  differences: [
    'Without `checksum`, an existing dest is left alone (`force: false`) without asking the server, and mode/owner/group still apply: Ansible sends If-Modified-Since, replaces a file the server says is newer, and after a 304 Not Modified applies no attributes.',
    '`force: true` without `checksum` plans a download every run (the plan cannot know the remote bytes); Ansible reports ok when the fetched bytes equal dest.',
    'A dest directory gets the last segment of the URL as the file name (never Content-Disposition), and an existing file there is kept as without `checksum`.',
    'A download whose digest differs from `checksum` fails and leaves dest as it was (Ansible moves it in, then deletes it); a dest that is a symlink is refused.',
    'Not supported: a checksum URL (SHA256SUMS), `url_username`/`url_password`, `backup`, `validate_certs`, `tmp_dest` (refused when the playbook is checked).',
  ],
  title: (args) => String(args.dest ?? args.url ?? ''),
  facts(args) {
    const name = urlFileName(args.url);
    const sum = args.checksum === undefined ? undefined : (parseChecksum(args.checksum) as { algorithm: ChecksumAlgorithm });
    return {
      file: fileFact(args.dest, { hash: false, inside: name }),
      ...(sum ? { sum: checksumFact({ path: args.dest, algorithm: sum.algorithm, inside: name }) } : {}),
    };
  },
  plan: (args, facts, ctx) => plan(args, known(facts.file), facts.sum ? known(facts.sum) : undefined, ctx),
});
