/**
 * deb822_repository: an apt source in deb822 form, /etc/apt/sources.list.d/<slug>.sources,
 * following ansible-core 2.15's documented module (2.14, plumb's oracle, does not have it, so
 * there is no differential test: the written file is tested against the documented format).
 * Fields come out in the order of the argument names, one `Field: value` line each; a
 * multi-line value (an inline key) continues on lines indented by four spaces, an empty line
 * written as ".". `signed_by` is a path or an inline key, kept as given, or a URL: the host
 * fetches the key into /etc/apt/keyrings/<slug>.asc (armored) or .gpg and the file names it.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { fileFact, type FileState, sha256, unifiedDiff, writeStep } from './files.js';
import { quote } from '../quote.js';
import { modeSchema } from './common.js';
import { fetchCommand } from './get_url.js';
import { attrChanges, attrPlans } from './files.js';
import { defineModule, known, type ModuleContext, ModuleError, type Planned, type Step } from './types.js';

export const KEYRINGS_DIR = '/etc/apt/keyrings';
const KEY_URL = /^(https?|file):\/\/\S+$/;
const KEY_PLACEHOLDER = '@PLUMB_KEYRING@';

/** Ansible's list arguments: a list, or one string split at commas. */
const words = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',').map((s) => s.trim())))
  .refine((v) => v.every((s) => s !== '' && !/[\n\0]/.test(s)), { message: 'each item must be a non-empty single line' });

const flag = (what: string) => z.boolean().optional().describe(what);

export const deb822Args = z.strictObject({
  name: z
    .string()
    .min(1)
    .refine((n) => !/[\n\0]/.test(n), { message: 'name must be one line' })
    .describe("the repository's name (X-Repolib-Name); the file is sources.list.d/<name as a slug>.sources"),
  types: z
    .union([z.enum(['deb', 'deb-src']), z.array(z.enum(['deb', 'deb-src']))])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .default(['deb'])
    .describe('deb and/or deb-src'),
  uris: words.optional().describe('the repository URIs'),
  suites: words.optional().describe('suites (e.g. bookworm), or a path for a flat repository'),
  components: words.optional().describe('components (e.g. main contrib)'),
  architectures: words.optional().describe('architectures to use (e.g. amd64)'),
  languages: words.optional().describe('translation languages to fetch'),
  targets: words.optional().describe('download targets'),
  signed_by: z
    .string()
    .min(1)
    .refine((s) => !s.includes('\0'), { message: 'contains a NUL byte' })
    .optional()
    .describe('the key: a path to a keyring, an inline ASCII-armored key, a fingerprint, or an http(s)/file URL the host fetches into /etc/apt/keyrings'),
  enabled: flag('Enabled: yes/no'),
  trusted: flag('Trusted: yes/no (skip signature checks)'),
  allow_insecure: flag('Allow-Insecure: yes/no'),
  allow_weak: flag('Allow-Weak: yes/no'),
  allow_downgrade_to_insecure: flag('Allow-Downgrade-To-Insecure: yes/no'),
  by_hash: flag('By-Hash: yes/no'),
  check_date: flag('Check-Date: yes/no'),
  check_valid_until: flag('Check-Valid-Until: yes/no'),
  pdiffs: flag('PDiffs: yes/no (written Pdiffs, as Ansible writes it)'),
  date_max_future: z.number().int().nonnegative().optional().describe('Date-Max-Future: seconds'),
  inrelease_path: z
    .string()
    .regex(/^[^\n\0]+$/)
    .optional()
    .describe('InRelease-Path (written Inrelease-Path, as Ansible writes it)'),
  mode: modeSchema.default('0644').describe('mode of the .sources file'),
  state: z.enum(['present', 'absent']).default('present').describe('present: the file holds exactly these fields; absent: the file and its fetched key are removed'),
});

export type Deb822Args = z.output<typeof deb822Args>;

/** The file name part Ansible makes of a name: lower case, blanks and _ as -, nothing but a-z 0-9 -. */
export function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[_\s]+/g, '-')
    .replace(/[^a-z0-9-]+/g, '');
}

function fieldName(key: string): string {
  if (key === 'name') return 'X-Repolib-Name';
  if (key === 'uris') return 'URIs';
  return key
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('-');
}

function fieldValue(value: string): string {
  if (!value.includes('\n')) return ` ${value}`;
  const lines = value
    .trim()
    .split('\n')
    .map((l) => `    ${l.trim() || '.'}`);
  return `\n${lines.join('\n')}`;
}

const FIELDS = [
  'allow_downgrade_to_insecure',
  'allow_insecure',
  'allow_weak',
  'architectures',
  'by_hash',
  'check_date',
  'check_valid_until',
  'components',
  'date_max_future',
  'enabled',
  'inrelease_path',
  'languages',
  'name',
  'pdiffs',
  'signed_by',
  'suites',
  'targets',
  'trusted',
  'types',
  'uris',
] as const;

/** The .sources text; `signedBy` replaces the signed_by argument (a URL's key file). */
export function renderSources(args: Deb822Args, signedBy: string | undefined): string {
  let out = '';
  for (const key of FIELDS) {
    const raw = key === 'signed_by' ? signedBy : args[key];
    if (raw === undefined) continue;
    const value = typeof raw === 'boolean' ? (raw ? 'yes' : 'no') : Array.isArray(raw) ? raw.join(' ') : String(raw);
    out += `${fieldName(key)}:${fieldValue(value)}\n`;
  }
  return out;
}

interface Facts {
  sources: FileState;
  asc?: FileState;
  gpg?: FileState;
}

function keyPath(slug: string, ext: 'asc' | 'gpg') {
  return posix.join(KEYRINGS_DIR, `${slug}.${ext}`);
}

function absentPlan(path: string, slug: string, f: Facts): Planned[] {
  const gone = [
    [path, f.sources],
    [keyPath(slug, 'asc'), f.asc],
    [keyPath(slug, 'gpg'), f.gpg],
  ] as const;
  return gone
    .filter(([, s]) => s !== undefined && s.type !== 'absent')
    .map(([p]) => ({ change: { summary: `remove ${p}`, target: p }, steps: [{ kind: 'exec', command: `rm -f -- ${quote(p)}`, describe: `remove ${p}` }] }));
}

/** Fetch the key, file it as .asc or .gpg by what it is, then write the .sources naming it. */
function keyAndSourcesStep(args: Deb822Args, path: string, slug: string, text: string, ctx: ModuleContext): Step {
  const script = [
    `mkdir -p ${KEYRINGS_DIR} && chown root:root ${KEYRINGS_DIR} && chmod 0755 ${KEYRINGS_DIR} || exit 1`,
    `t=$(mktemp ${quote(`${KEYRINGS_DIR}/.${slug}.plumb-XXXXXXXX`)}) || exit 1`,
    `u=$(mktemp ${quote(`/etc/apt/sources.list.d/.${slug}.plumb-XXXXXXXX`)}) || exit 1`,
    `trap 'rm -f "$t" "$u"' EXIT`,
    `{\n${fetchCommand(args.signed_by as string, {}, 10)}\n} || exit 1`,
    `if grep -q -e '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$t"; then k=${quote(keyPath(slug, 'asc'))}; else k=${quote(keyPath(slug, 'gpg'))}; fi`,
    'chmod 0644 "$t" && mv -f -- "$t" "$k" || exit 1',
    `sed "s|${KEY_PLACEHOLDER}|$k|" > "$u" && chmod ${args.mode} "$u" && mv -f -- "$u" ${quote(path)}`,
  ].join('\n');
  return { kind: 'exec', command: script, stdin: text, describe: `fetch the key ${ctx.redact(args.signed_by as string)} into ${KEYRINGS_DIR} and write ${path}` };
}

function plan(args: Deb822Args, f: Facts, ctx: ModuleContext): Planned[] {
  const slug = slugOf(args.name);
  if (slug === '') throw new ModuleError(`deb822_repository: the name ${JSON.stringify(args.name)} leaves no file name (it needs a letter or digit)`);
  const path = posix.join('/etc/apt/sources.list.d', `${slug}.sources`);
  if (args.state === 'absent') return absentPlan(path, slug, f);
  if (f.sources.type !== 'file' && f.sources.type !== 'absent') throw new ModuleError(`deb822_repository: ${path} exists and is not a regular file`);
  const url = args.signed_by !== undefined && KEY_URL.test(args.signed_by);
  const haveKey = url ? ([f.asc, f.gpg] as const).findIndex((k) => k?.type === 'file') : -1;
  if (url && haveKey < 0) {
    const text = renderSources(args, KEY_PLACEHOLDER);
    return [
      {
        change: { summary: `fetch the key ${ctx.redact(args.signed_by as string)} into ${KEYRINGS_DIR}/${slug}.asc or .gpg`, target: `${KEYRINGS_DIR}/${slug}` },
        steps: [keyAndSourcesStep(args, path, slug, text, ctx)],
      },
      { change: { summary: f.sources.type === 'absent' ? `create ${path}` : `content of ${path} changed`, target: path }, steps: [] },
    ];
  }
  const signedBy = url ? keyPath(slug, haveKey === 0 ? 'asc' : 'gpg') : args.signed_by;
  const text = renderSources(args, signedBy);
  const attrs = attrChanges(path, { mode: args.mode }, f.sources);
  if (f.sources.type === 'file' && f.sources.sha256 === sha256(text)) return attrPlans(attrs, ctx);
  const diff = unifiedDiff(path, f.sources.type === 'file' ? f.sources.content : undefined, text);
  const change = { summary: f.sources.type === 'absent' ? `create ${path}` : `content of ${path} changed`, target: path, diff: ctx.redact(diff) };
  const write = writeStep(path, text, { mode: args.mode }, f.sources, ctx.hasSecret(text), ctx);
  return [{ change, steps: [write] }, ...attrs.map((a) => ({ change: a.change, steps: [] }))];
}

export const deb822_repository = defineModule<Deb822Args, Facts>({
  name: 'deb822_repository',
  summary: 'an apt source in deb822 form (/etc/apt/sources.list.d/<name>.sources), its key inline, a path, or fetched into /etc/apt/keyrings',
  schema: deb822Args,
  differences: [
    "ansible-core 2.14 has no deb822_repository (2.15 added it): plumb follows 2.15's documentation and there is no differential test against Ansible.",
    'A signed_by URL is fetched only while neither /etc/apt/keyrings/<slug>.asc nor .gpg exists (Ansible fetches it every run and replaces a key that changed).',
    'The field `Install-Python-Debian` that early 2.15 releases also wrote is never written; `install_python_debian` is not an argument.',
  ],
  title: (args) => String(args.name ?? ''),
  facts(args) {
    const slug = slugOf(args.name);
    const path = posix.join('/etc/apt/sources.list.d', `${slug}.sources`);
    const url = args.signed_by !== undefined && KEY_URL.test(args.signed_by);
    const keys = args.state === 'absent' || url;
    return {
      sources: fileFact(path, { hash: true, fetchLimit: 64 * 1024 }),
      ...(keys ? { asc: fileFact(keyPath(slug, 'asc'), { hash: false }), gpg: fileFact(keyPath(slug, 'gpg'), { hash: false }) } : {}),
    };
  },
  plan: (args, facts, ctx) =>
    plan(
      args,
      {
        sources: known(facts.sources),
        ...(facts.asc ? { asc: known(facts.asc) } : {}),
        ...(facts.gpg ? { gpg: known(facts.gpg) } : {}),
      },
      ctx,
    ),
});
