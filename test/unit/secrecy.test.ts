/**
 * Secrets follow the data (issue 10, class 2). Property-based: secrets of every
 * kind of character go through every template filter, concatenations, variables
 * and every module, on a local host in a scratch directory, through the real
 * CLI code paths (plan text/markdown/json, a saved plan, apply of the saved
 * plan, apply --diff, progress lines, the recap, errors). Every output is then
 * searched for the secret, for what the template computed from it, and for
 * their common encodings.
 *
 * Case count (one case per module or filter a property covers):
 * - channels property: 17 transforms (raw, 9 filters, 2 concatenations, join,
 *   if, a filter chain, a transitive variable, two secrets) through copy, plus
 *   copy (multi-line), template, lineinfile, file, command (argv and cmd),
 *   shell (echoing base64/hex/raw), postconf, a handler = 26 cases;
 * - rejected-value property: apt (2), service (2), postconf, copy dest, file
 *   mode (2), lineinfile regexp, int filter = 10 cases;
 * - names computed from a secret: apt, service = 2 cases;
 * - too-short derived values: length, bool, index, int = 4 cases;
 * - too-short secrets: secrets file, play secret from env = 2 cases;
 * - the redactor alone: 11 encodings + base64 at any alignment = 12 cases.
 * Total 56. PLUMB_FC_SCALE=N runs each property N times as often.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { run as plumbMain } from '../../src/cli/main.js';
import { quote } from '../../src/quote.js';
import { Redactor } from '../../src/redactor.js';
import { forms, leaks } from '../secret-forms.js';

// ---------------------------------------------------------------------------
// What a secret looks like once transformed (the oracle; independent of src/).

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** PLUMB_FC_SCALE=10 runs every property ten times as often (a deeper search than CI's). */
const runs_ = (n: number) => Math.max(1, Math.round(n * Number(process.env.PLUMB_FC_SCALE ?? 1)));

// ---------------------------------------------------------------------------
// Secrets of every kind of character.

const ascii = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 });
const hostile = fc.constantFrom("'", '"', '\\', '$', '`', ' ', '\n', '\t', '$(', '{{', '%', '*', '=', ':', '/', '-', '#', ';', '|');
const unicode = fc.constantFrom('é', 'ß', 'ü', 'Ω', 'ж', '中', '文', 'İ', 'ﬀ', '\u00a0', 'ı', 'Å');
const emoji = fc.constantFrom('🔑', '😀', '👩‍💻', '🇫🇷', '💥');
const piece = fc.oneof({ arbitrary: ascii, weight: 4 }, { arbitrary: hostile, weight: 3 }, { arbitrary: unicode, weight: 2 }, { arbitrary: emoji, weight: 1 });

/** 4 to ~30 characters, at least 4 of them not blank (so `trim` keeps it hideable). */
const secretArb = fc
  .array(piece, { minLength: 4, maxLength: 14 })
  .map((a) => a.join(''))
  .filter((s) => s.trim().length >= 4 && !s.includes('\r'));

// ---------------------------------------------------------------------------
// The real CLI, in this process: plan and apply write straight to process.stdout/stderr.

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function plumb(args: string[]): Promise<Out> {
  let stdout = '';
  let stderr = '';
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  process.stdout.write = ((chunk: unknown) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await plumbMain(args, {
      stdout: (t) => (stdout += t.endsWith('\n') ? t : t + '\n'),
      stderr: (t) => (stderr += t.endsWith('\n') ? t : t + '\n'),
      env: process.env,
    });
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
}

let root: string;
const saved: Record<string, string | undefined> = {};
const setEnv = (k: string, v: string | undefined) => {
  if (!(k in saved)) saved[k] = process.env[k];
  if (v === undefined) delete process.env[k];
  else process.env[k] = v;
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'plumb-secrecy-'));
  setEnv('CI', 'true'); // the plain reporter: one progress line per event
  setEnv('PLUMB_STATE_DIR', join(root, 'state'));
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(root, { recursive: true, force: true });
});

let serial = 0;
function scratch(): string {
  const d = join(root, `run${serial++}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'inventory.yaml'), stringify({ all: { hosts: { here: { connection: 'local' } } } }));
  return d;
}

function writeSecrets(dir: string, values: Record<string, string>): string {
  const path = join(dir, 'secrets.yaml');
  const text = stringify(values);
  expect(parse(text)).toEqual(values); // the file holds exactly these values
  writeFileSync(path, text);
  return path;
}

// ---------------------------------------------------------------------------
// Every filter and concatenation, through copy.

const TRANSFORMS: Array<[string, string]> = [
  ['raw', '{{ pw }}'],
  ['quote', '{{ pw | quote }}'],
  ['b64encode', '{{ pw | b64encode }}'],
  ['upper', '{{ pw | upper }}'],
  ['lower', '{{ pw | lower }}'],
  ['trim', '{{ pw | trim }}'],
  ['to_json', '{{ pw | to_json }}'],
  ['string', '{{ pw | string }}'],
  ['default', '{{ no_such_variable | default(pw) }}'],
  ['concat ~', "user:{{ 'pre-' ~ pw ~ '-post' }}:end"],
  ['concat +', "{{ pw + '!' }}"],
  ['join', "{{ [pw, 'tail'] | join('/') }}"],
  ['if', "{{ pw if pw else 'none' }}"],
  ['chain', '{{ pw | upper | b64encode }}'],
  ['via variables', '{{ via_two }}'],
  ['two secrets', "{{ pw ~ ':' ~ pw2 }}"],
  ['mixed text', 'a {{ pw | lower }} b {{ pw | quote }} c'],
];

/** What the template language makes of the secrets (so a leak of a derived value is found too). */
function derived(pw: string, pw2: string): string[] {
  return [
    quote(pw),
    b64(pw),
    pw.toUpperCase(),
    pw.toLowerCase(),
    pw.trim(),
    JSON.stringify(pw),
    `pre-${pw}-post`,
    `${pw}!`,
    `${pw}/tail`,
    b64(pw.toUpperCase()),
    `x-${b64(pw)}-y`,
    `${pw}:${pw2}`,
  ];
}

function channelPlaybook(d: string): string {
  const tasks: unknown[] = TRANSFORMS.map(([name, expr], i) => ({ name: `copy ${name}`, copy: { dest: join(d, `c${i}`), content: expr, mode: '0600' } }));
  writeFileSync(join(d, 't.j2'), 'user = {{ pw | b64encode }}\npass = {{ pw }}\nplain line\n');
  tasks.push(
    { name: 'copy multi-line', copy: { dest: join(d, 'multi'), content: 'first line\n{{ pw | upper }}\nlast line\n' } },
    { name: 'template', template: { src: join(d, 't.j2'), dest: join(d, 'tmpl'), mode: '0600' } },
    { name: 'lineinfile', lineinfile: { path: join(d, 'li'), line: 'key={{ pw | to_json }}', create: true } },
    { name: 'file', file: { path: join(d, 'dir-{{ pw | b64encode }}'), state: 'directory' } },
    { name: 'command argv', command: { argv: ['/bin/sh', '-c', 'printf "%s" "$1" >&2; exit 3', 'sh', '{{ pw | upper }}'] }, ignore_errors: true },
    { name: 'command cmd', command: { cmd: '/bin/echo {{ pw | quote }}' }, notify: 'secret handler' },
    {
      name: 'shell echoes encodings',
      shell: `printf '%s' {{ pw | quote }} | base64 -w0 >&2; echo >&2; printf '%s' {{ pw | quote }} | od -An -tx1 | tr -d ' \\n' >&2; echo >&2; printf '%s' {{ pw | quote }} >&2; exit 4`,
      ignore_errors: true,
    },
    { name: 'postconf', postconf: { myhostname: '{{ pw | b64encode }}' }, ignore_errors: true },
  );
  const handlers = [{ name: 'secret handler', shell: "printf '%s' {{ pw | b64encode | quote }} >&2; exit 5", ignore_errors: true }];
  const play = {
    name: 'secrets',
    hosts: 'all',
    vars: { via_var: '{{ pw | b64encode }}', via_two: 'x-{{ via_var }}-y' },
    secrets: { pw2: '{{ env.PLUMB_SECRECY_PW2 }}' },
    tasks,
    handlers,
  };
  const path = join(d, 'site.yaml');
  writeFileSync(path, stringify([play]));
  return path;
}

describe('secrets follow the data through every output channel', () => {
  it('no plan, saved plan, progress line, recap or error shows a secret or anything computed from it', { timeout: 120_000 }, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(secretArb, secretArb, secretArb, async (pw, pw2, next) => {
        fc.pre(pw !== next);
        runs++;
        const d = scratch();
        const pb = channelPlaybook(d);
        const inv = ['-i', join(d, 'inventory.yaml'), '--secrets', writeSecrets(d, { pw })];
        setEnv('PLUMB_SECRECY_PW2', pw2);
        const outputs: Array<[string, string]> = [];
        const keep = (label: string, r: Out) => outputs.push([`${label} stdout`, r.stdout], [`${label} stderr`, r.stderr]);

        const text = await plumb(['plan', pb, ...inv]);
        keep('plan text', text);
        expect(text.code, text.stderr).toBe(2);
        keep('plan markdown', await plumb(['plan', pb, ...inv, '--format', 'markdown']));
        const planFile = join(d, 'plan.json');
        const json = await plumb(['plan', pb, ...inv, '--format', 'json', '--out', planFile]);
        keep('plan json', json);
        outputs.push(['saved plan', readFileSync(planFile, 'utf8')]);
        const applied = await plumb(['apply', planFile, '--secrets', join(d, 'secrets.yaml')]);
        keep('apply saved plan', applied);
        keep('apply --diff', await plumb(['apply', pb, ...inv, '--diff']));
        // The files now hold what pw made; a plan with another secret must not show them either.
        writeSecrets(d, { pw: next });
        keep('plan with another secret', await plumb(['plan', pb, ...inv]));

        // The real code ran: files were written with the derived content.
        expect(readFileSync(join(d, 'c2'), 'utf8')).toBe(b64(pw));
        expect(readFileSync(join(d, 'tmpl'), 'utf8')).toBe(`user = ${b64(pw)}\npass = ${pw}\nplain line\n`);
        expect(applied.stderr).toMatch(/failed \(ignored\) shell echoes encodings/);

        if (process.env.PLUMB_SECRECY_SHOW) for (const [label, out] of outputs) console.log(`=== ${label}\n${out}`);
        const searched = [pw, pw2, next, ...derived(pw, pw2), ...derived(next, pw2)];
        for (const [label, out] of outputs) {
          const found = leaks(out, searched);
          if (found.length) throw new Error(`${label} shows ${found.join(', ')}:\n${out}`);
        }
        for (const [label, out] of outputs.filter(([l]) => l.startsWith('plan text stdout') || l === 'saved plan')) {
          expect(out, label).toMatch(/\(secret\)/);
        }
      }),
      { numRuns: runs_(5), endOnFailure: true },
    );
    expect(runs).toBeGreaterThan(0);
  });

  it('a secret in a value a module rejects is named, never shown', { timeout: 60_000 }, async () => {
    const cases: Array<[string, unknown]> = [
      ['apt raw', { apt: { name: '{{ pw }}' } }],
      ['apt lower', { apt: { name: ['{{ pw | lower }}'] } }],
      ['service', { service: { name: '{{ pw }}', state: 'started' } }],
      ['postconf', { postconf: { myhostname: '{{ pw }} ' } }],
      ['copy dest', { copy: { dest: '{{ pw }}', content: 'x' } }],
      ['file mode', { file: { path: '/tmp', mode: '{{ pw }}' } }],
      ['file mode upper', { file: { path: '/tmp', mode: '{{ pw | upper }}' } }],
      ['service b64encode', { service: { name: '{{ pw | b64encode }}', state: 'started' } }],
      ['lineinfile regexp', { lineinfile: { path: '/nonexistent/x', regexp: '({{ pw }}', state: 'absent' } }],
      ['int filter', { copy: { dest: '/nonexistent/x', content: '{{ pw | int }}' } }],
    ];
    await fc.assert(
      fc.asyncProperty(secretArb, async (pw) => {
        const d = scratch();
        const secrets = writeSecrets(d, { pw });
        for (const [name, task] of cases) {
          const pb = join(d, `${name.replace(/ /g, '-')}.yaml`);
          writeFileSync(pb, stringify([{ hosts: 'all', tasks: [task] }]));
          for (const args of [
            ['validate', pb],
            ['plan', pb],
            ['plan', pb, '--format', 'json'],
          ]) {
            const r = await plumb([...args, '-i', join(d, 'inventory.yaml'), '--secrets', secrets]);
            const found = leaks(r.stdout + r.stderr, [pw, pw.toLowerCase()]);
            if (found.length) throw new Error(`${name}: ${args.join(' ')} shows ${found.join(', ')}:\n${r.stdout}${r.stderr}`);
          }
        }
      }),
      { numRuns: runs_(6), endOnFailure: true },
    );
  });
});

describe('modules that print names', () => {
  it('apt and service never show a package or service name computed from a secret', async () => {
    // A secret that makes a valid package and service name, so both are probed (read-only) and planned.
    const pw = 'Mailer-Daemon-7';
    const d = scratch();
    const pb = join(d, 'site.yaml');
    writeFileSync(
      pb,
      stringify([
        {
          hosts: 'all',
          tasks: [
            { name: 'package', apt: { name: ['{{ pw | lower }}'] } },
            { name: 'unit', service: { name: '{{ pw }}', state: 'started' } },
          ],
        },
      ]),
    );
    const inv = ['-i', join(d, 'inventory.yaml'), '--secrets', writeSecrets(d, { pw })];
    for (const format of ['text', 'json', 'markdown']) {
      const r = await plumb(['plan', pb, ...inv, '--format', format]);
      expect(r.code, r.stderr).toBe(2);
      expect(leaks(r.stdout + r.stderr, [pw])).toEqual([]);
      if (format === 'text') expect(r.stdout).toMatch(/~ package\n\s+install \*\*\* \(secret\)/);
    }
  });
});

describe('values too short to hide are refused, naming them', () => {
  it('a value computed from a secret that is shorter than 4 characters (or not text) is a clear error', { timeout: 60_000 }, async () => {
    const cases: Array<[string, string]> = [
      ['length', '{{ pw | length }}'],
      ['bool', '{{ pw | bool }}'],
      ['index', '{{ pw[0] }}'],
      ['int', '{{ (pw | length) | int }}'],
    ];
    await fc.assert(
      fc.asyncProperty(secretArb, async (pw) => {
        const d = scratch();
        const secrets = writeSecrets(d, { pw });
        for (const [name, expr] of cases) {
          const pb = join(d, `${name}.yaml`);
          writeFileSync(pb, stringify([{ hosts: 'all', tasks: [{ name: `short ${name}`, copy: { dest: join(d, 'out'), content: expr } }] }]));
          for (const cmd of ['validate', 'plan', 'apply']) {
            const r = await plumb([cmd, pb, '-i', join(d, 'inventory.yaml'), '--secrets', secrets]);
            expect(r.code, `${name} ${cmd}`).toBe(1);
            expect(r.stderr, `${name} ${cmd}`).toMatch(/copy\.content.*computed from secret "pw".*(shorter than 4 characters|not text)/);
            expect(leaks(r.stdout + r.stderr, [pw])).toEqual([]);
          }
        }
      }),
      { numRuns: runs_(3), endOnFailure: true },
    );
  });

  // Letters no file name or message of plumb's contains, so finding one means it leaked.
  const shortArb = fc
    .array(fc.oneof(unicode, emoji), { minLength: 1, maxLength: 3 })
    .map((a) => a.join(''))
    .filter((s) => s.length < 4);

  it('a secret shorter than 4 characters is refused with its name, never its value', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(shortArb, async (short) => {
        const d = scratch();
        const pb = join(d, 'site.yaml');
        writeFileSync(
          pb,
          stringify([
            { hosts: 'all', secrets: { from_env: '{{ env.PLUMB_SECRECY_SHORT }}' }, tasks: [{ copy: { dest: join(d, 'x'), content: '{{ from_env }}{{ from_file }}' } }] },
          ]),
        );
        const secrets = writeSecrets(d, { from_file: short });
        setEnv('PLUMB_SECRECY_SHORT', 'long enough value');
        const file = await plumb(['plan', pb, '-i', join(d, 'inventory.yaml'), '--secrets', secrets]);
        expect(file.code).toBe(1);
        expect(file.stderr).toMatch(/secret "from_file" is shorter than 4 characters/);
        expect(file.stderr).not.toContain(short);

        writeSecrets(d, { from_file: 'long enough too' });
        setEnv('PLUMB_SECRECY_SHORT', short);
        for (const cmd of ['validate', 'plan']) {
          const env = await plumb([cmd, pb, '-i', join(d, 'inventory.yaml'), '--secrets', secrets]);
          expect(env.code).toBe(1);
          expect(env.stderr).toMatch(/secret "from_env".*shorter than 4 characters/);
          expect(env.stdout + env.stderr).not.toContain(short);
        }
        expect(() => new Redactor().add(short)).toThrow(/shorter than 4 characters/);
      }),
      { numRuns: runs_(4), endOnFailure: true },
    );
  });
});

describe('the redactor hides a secret in its common encodings', () => {
  it('every encoding of a secret, anywhere in a text, is hidden', () => {
    fc.assert(
      fc.property(secretArb, fc.string(), fc.string(), (s, before, after) => {
        const r = new Redactor();
        r.add(s);
        for (const f of forms(s)) {
          const out = r.redact(before + f + after);
          expect(leaks(out, [s]), JSON.stringify(f)).toEqual([]);
          expect(r.has(before + f + after)).toBe(true);
        }
      }),
      { numRuns: runs_(300) },
    );
  });

  it('base64 of a text that contains the secret at any offset hides the secret part', () => {
    fc.assert(
      fc.property(secretArb, fc.uint8Array({ maxLength: 5 }), fc.uint8Array({ maxLength: 5 }), (s, pre, post) => {
        const r = new Redactor();
        r.add(s);
        const secretBytes = Buffer.from(s, 'utf8');
        const all = Buffer.concat([Buffer.from(pre), secretBytes, Buffer.from(post)]);
        const encoded = all.toString('base64');
        // The base64 characters made only of the secret's bits.
        const first = Math.ceil((pre.length * 8) / 6);
        const last = Math.floor(((pre.length + secretBytes.length) * 8) / 6);
        const core = encoded.slice(first, last);
        const out = r.redact(`x ${encoded} y`);
        expect(out).not.toContain(core);
      }),
      { numRuns: runs_(300) },
    );
  });

  it('refuses a secret shorter than 4 characters instead of leaving it unredacted', () => {
    for (const v of ['', 'a', 'ab', 'abc']) expect(() => new Redactor().add(v)).toThrow(/shorter than 4 characters/);
  });
});
