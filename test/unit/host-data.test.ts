/**
 * What a host returns is untrusted (issue 10, class 4). Hostile host data —
 * file content, owner names, symlink targets, probe stderr, error text — goes
 * through every output: text plan, markdown plan, JSON, plain progress, the
 * listr2 terminal, the recap and the CLI's error lines. Terminal control
 * characters must come out as visible escapes, and in markdown nothing a host
 * holds may hide (`<!--`) or forge (a heading, a fence, a list item) a line.
 * The host data is produced by the real modules from probe output where a
 * module is involved.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportError } from '../../src/cli/errors.js';
import type { Play, Task } from '../../src/config/model.js';
import type { HostPlan, HostResult, TaskPlan } from '../../src/engine/types.js';
import { PlumbError } from '../../src/errors.js';
import { modules } from '../../src/modules/index.js';
import type { Change } from '../../src/modules/types.js';
import { escapeControl } from '../../src/report/escape.js';
import { planJson } from '../../src/report/plan-document.js';
import type { PlanDocument } from '../../src/engine/plan-schema.js';
import { planMarkdown } from '../../src/report/plan-markdown.js';
import { planText } from '../../src/report/plan-text.js';
import { PlainReporter } from '../../src/report/plain.js';
import { recapTable } from '../../src/report/recap.js';
import { TerminalReporter } from '../../src/report/terminal.js';
import { fakeContext, planFrom } from '../modules/context.js';
import { outsideFences } from '../markdown.js';

/** Raw characters a terminal acts on: C0 except newline and tab, DEL, C1, bidi controls, line separators. */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const CLEAR = '\x1b[2J\x1b[H';
const OSC8 = '\x1b]8;;http://evil.example/\x07click me\x1b]8;;\x07';
const TITLE = '\x1b]0;pwned\x07';
const CR = 'harmless\rEVIL overwrite';
const BIDI = 'abc\u202etxt.exe';
const C1_CSI = '\u009b31mred';
const BELL_BACKSPACE = 'ding\x07\x08\x08\x08ok';

const HOSTILE_FILE = [
  'first line',
  `${CLEAR}screen cleared`,
  OSC8,
  CR,
  '<!-- everything after this is hidden from a reviewer',
  '```',
  '`````',
  '# forged heading',
  '- **forged task**',
  BIDI,
  C1_CSI,
  TITLE,
  '',
].join('\n');

const ctx = fakeContext();
const b64 = (s: string) => Buffer.from(s).toString('base64');
const sha = async (s: string) => (await import('node:crypto')).createHash('sha256').update(s).digest('hex');

/** The changes a real module plans from a probe output. */
function changesFrom(module: 'copy' | 'file', args: unknown, stdout: string): Change[] {
  const { probed, changes, error } = planFrom(modules[module], args, stdout, ctx);
  if (!probed.known) throw new Error(probed.reason);
  if (error !== undefined) throw new Error(error);
  return changes;
}

async function hostileCopy(): Promise<Change[]> {
  const size = Buffer.byteLength(HOSTILE_FILE);
  const out = `type file\nstat 644 0 0 ${size} root root\nsha256 ${await sha(HOSTILE_FILE)}\ncontent ${b64(HOSTILE_FILE)}\n`;
  return changesFrom('copy', { dest: '/etc/app.conf', content: 'clean\n' }, out);
}

// stat prints names space-separated, so a hostile name here has no space in it.
const HOSTILE_OWNER = 'ev\x1b]8;;http://x.example/\x07il';
const ownerChanges = () => changesFrom('file', { path: '/srv/x', owner: 'root', group: 'root' }, `type file\nstat 644 4242 4242 0 ${HOSTILE_OWNER} grp${C1_CSI}\n`);
const HOSTILE_TARGET = `/tmp/${TITLE}x\n  ~ forged task\n<!-- hide`;
const linkChanges = () => changesFrom('copy', { dest: '/etc/motd', content: 'hi\n' }, `type link\ntarget ${b64(HOSTILE_TARGET)}\n`);

const play = { name: 'web', hosts: 'all', become: false, vars: {}, vars_files: [], secrets: {}, tasks: [], handlers: [], pos: { file: 'site.yaml', line: 1, column: 1 } } as Play;
const task = (name: string, module = 'copy'): Task => ({ name, module, args: {}, notify: [], tags: [], ignore_errors: false, pos: { file: 'site.yaml', line: 2, column: 3 } });

function taskPlan(index: number, name: string, rest: Partial<TaskPlan>): TaskPlan {
  return { index, task: task(name), args: {}, outcome: 'change', changes: [], ...rest };
}

async function hostilePlans(): Promise<HostPlan[]> {
  return [
    {
      host: 'web1',
      play,
      status: 'planned',
      handlers: [],
      pendingHandlers: [],
      seconds: 0.1,
      tasks: [
        taskPlan(0, 'config', { changes: await hostileCopy() }),
        taskPlan(1, 'ownership', { changes: ownerChanges() }),
        taskPlan(2, 'motd', { changes: linkChanges() }),
        taskPlan(3, 'probe failed', { outcome: 'may-change', reason: `could not read the current state: ${CR}\n## forged ${OSC8}` }),
        taskPlan(4, 'cannot apply', { outcome: 'error', reason: `lineinfile: /x is a symlink to ${TITLE}<!--` }),
      ],
    },
    { host: 'web2', play, status: 'unreachable', error: `ssh banner: ${CLEAR}${BIDI}\n<!-- hidden`, tasks: [], handlers: [], pendingHandlers: [], seconds: 0.2 },
  ];
}

/** The document the JSON and markdown plans print, built from the same host plans. */
function documentOf(plans: HostPlan[]): PlanDocument {
  return {
    format: 'plumb-plan',
    version: 2,
    created_at: '2026-01-01T00:00:00.000Z',
    command: { playbook: 'site`.yaml', inventory: 'inventory.yaml', extra_vars: {} },
    files: [],
    summary: { hosts: 2, with_changes: 1, changes: 4, unchanged: 0, unreachable: 1, failed: 1 },
    hosts: plans.map((p) => ({
      name: p.host,
      play: p.play.name,
      play_index: 0,
      status: p.status === 'unreachable' ? 'unreachable' : 'changes',
      ...(p.error ? { error: p.error } : {}),
      pending_handlers: [],
      tasks: p.tasks.map((t) => ({ index: t.index, name: t.task.name, module: t.task.module, outcome: t.outcome, ...(t.reason ? { reason: t.reason } : {}), changes: t.changes })),
      handlers: p.tasks.length ? [{ name: `restart ${OSC8}`, runs: 'will', because: [`config <!-- ${CR}`] }] : [],
    })),
  };
}

describe('escapeControl', () => {
  it('shows every terminal control character as a visible escape', () => {
    expect(escapeControl(OSC8)).toBe('\\x1b]8;;http://evil.example/\\x07click me\\x1b]8;;\\x07');
    expect(escapeControl(CR)).toBe('harmless\\rEVIL overwrite');
    expect(escapeControl(BELL_BACKSPACE)).toBe('ding\\x07\\x08\\x08\\x08ok');
    expect(escapeControl(C1_CSI)).toBe('\\u009b31mred');
    expect(escapeControl(BIDI)).toBe('abc\\u202etxt.exe');
    expect(escapeControl('\x00\x7f\u2028\u2066\u200f')).toBe('\\x00\\u007f\\u2028\\u2066\\u200f');
  });

  it('keeps newlines and tabs in text, escapes newlines in one-line fields, and leaves other text alone', () => {
    expect(escapeControl('a\n\tb')).toBe('a\n\tb');
    expect(escapeControl('a\nb', { oneLine: true })).toBe('a\\nb');
    expect(escapeControl('mode 0644 → 0600, café, 日本, "quotes" \\ backslash')).toBe('mode 0644 → 0600, café, 日本, "quotes" \\ backslash');
  });

  it('is idempotent, so escaping twice on the way out changes nothing', () => {
    const once = escapeControl(HOSTILE_FILE, { oneLine: true });
    expect(escapeControl(once)).toBe(once);
    expect(once).not.toMatch(RAW_CONTROL);
  });
});

describe('text plan', () => {
  it('escapes control sequences from file content, owner names, symlink targets and reasons', async () => {
    const text = planText(await hostilePlans(), { diffs: true });
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain('-\\x1b]8;;http://evil.example/\\x07click me\\x1b]8;;\\x07');
    expect(text).toContain('-\\x1b[2J\\x1b[Hscreen cleared');
    expect(text).toContain('-harmless\\rEVIL overwrite');
    expect(text).toContain('-abc\\u202etxt.exe');
    expect(text).toContain('owner ev\\x1b]8;;http://x.example/\\x07il → root');
    expect(text).toContain('group grp\\u009b31mred → root');
    expect(text).toContain('ssh banner: \\x1b[2J\\x1b[Habc\\u202etxt.exe');
  });

  it('keeps each host field on its line: a newline in a symlink target or a reason cannot forge a task line', async () => {
    const lines = planText(await hostilePlans(), { diffs: true }).split('\n');
    expect(lines.filter((l) => l.startsWith('  ~ ')).map((l) => l.trim())).toEqual(['~ config', '~ ownership', '~ motd']);
    expect(lines.some((l) => /^\s*## forged/.test(l) || /^\s*<!-- hid/.test(l))).toBe(false);
    expect(lines).toContain('      /etc/motd is a symlink to /tmp/\\x1b]0;pwned\\x07x\\n  ~ forged task\\n<!-- hide; will be replaced by a regular file (3 bytes)');
  });
});

describe('markdown plan', () => {
  it('fences diffs so `<!--`, fences and headings in a file stay inside the fence', async () => {
    const md = planMarkdown(documentOf(await hostilePlans()));
    const outside = outsideFences(md);
    expect(outside.join('\n')).not.toContain('<!--');
    expect(outside.filter((l) => l.startsWith('#'))).toEqual(['## plumb plan: 4 changes on 1 of 2 hosts', '### Play: web', '#### web1 (1 host)', '#### web2 (1 host)']);
    expect(outside.some((l) => /^\s*[-~] (\*\*)?forged/.test(l))).toBe(false);
    expect(md).toContain('    ``````diff');
    expect(md).toContain('    -<!-- everything after this is hidden from a reviewer');
  });

  it('escapes inline host text: HTML, backticks, pipes, brackets, a leading #, and newlines', async () => {
    const doc = documentOf(await hostilePlans());
    doc.hosts[0].tasks[0].changes.push({ summary: '# [click](http://evil.example) `x` | <b>&amp;', target: 't' });
    const md = planMarkdown(doc);
    expect(md).toContain('  - \\# \\[click\\](http://evil.example) \\`x\\` \\| &lt;b&gt;&amp;amp;');
    // Brackets inside the escapes are markdown-escaped too: `\\x1b\\]8;;` renders as `\\x1b]8;;`.
    expect(md).toContain('— may change: could not read the current state: harmless\\rEVIL overwrite\\n## forged \\x1b\\]8;;');
    expect(md).toContain('— cannot apply: lineinfile: /x is a symlink to \\x1b\\]0;pwned\\x07&lt;!--');
    expect(md).toContain('**unreachable**: ssh banner: \\x1b\\[2J\\x1b\\[Habc\\u202etxt.exe\\n&lt;!-- hidden');
    expect(md).toContain('because config &lt;!-- harmless\\rEVIL overwrite');
    expect(md).toContain('Playbook ``site`.yaml``');
  });

  it('escapes control characters inside fences too', async () => {
    const md = planMarkdown(documentOf(await hostilePlans()));
    expect(md).not.toMatch(RAW_CONTROL);
    expect(md).toContain('    -\\x1b]0;pwned\\x07');
  });

  it('leaves ordinary plan text as it was (the checked-in fixture stays byte-identical)', () => {
    const doc: PlanDocument = {
      format: 'plumb-plan',
      version: 2,
      created_at: 'x',
      files: [],
      command: { playbook: 'playbooks/postfix-gmail-relay.yaml', inventory: 'INVENTORY', limit: 'mail1:mail2', extra_vars: {} },
      summary: { hosts: 1, with_changes: 1, changes: 2, unchanged: 0, unreachable: 0, failed: 0 },
      hosts: [
        {
          name: 'mail1',
          play: 'Relay outbound mail through Gmail',
          play_index: 0,
          status: 'changes',
          pending_handlers: [],
          tasks: [
            {
              index: 0,
              name: 'Gmail credentials',
              module: 'copy',
              outcome: 'change',
              changes: [
                { summary: 'create /etc/postfix/sasl_passwd (secret)', target: 'x', secret: true },
                { summary: 'mode 0600', target: 'x' },
              ],
            },
            {
              index: 1,
              name: 'Postfix is running',
              module: 'service',
              outcome: 'may-change',
              reason: 'service postfix not found (no systemd unit or /etc/init.d script; not installed yet?); read again after "Postfix and SASL client packages" changes the host',
              changes: [],
            },
          ],
          handlers: [{ name: 'postmap sasl_passwd', runs: 'will', because: ['Gmail credentials changes'] }],
        },
      ],
    };
    expect(planMarkdown(doc)).toBe(`## plumb plan: 2 changes on 1 of 1 host

1 hosts · 2 changes · 0 unchanged · 0 unreachable

Playbook \`playbooks/postfix-gmail-relay.yaml\`, inventory \`INVENTORY\`, limit \`mail1:mail2\`.

### Play: Relay outbound mail through Gmail

#### mail1 (1 host)

- **Gmail credentials**
  - create /etc/postfix/sasl_passwd (secret)
  - mode 0600
- **Postfix is running** — may change: service postfix not found (no systemd unit or /etc/init.d script; not installed yet?); read again after "Postfix and SASL client packages" changes the host

Handlers:
- **postmap sasl_passwd** will run because Gmail credentials changes
`);
  });
});

describe('JSON plan', () => {
  it('is valid JSON that round-trips the host text exactly, with no raw control character in it', async () => {
    const doc = documentOf(await hostilePlans());
    const json = planJson(doc);
    expect(json).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json)).toEqual(doc);
    expect(json).toContain('\\u202e');
    expect(json).toContain('\\u009b');
  });
});

describe('plain progress', () => {
  it('prints one escaped line per event', async () => {
    const lines: string[] = [];
    const r = new PlainReporter('apply', (l) => lines.push(l));
    r.taskDone('web1', { name: 'config', status: 'changed', changes: await hostileCopy() });
    r.taskDone('web1', { name: 'ownership', status: 'changed', changes: ownerChanges() });
    r.taskDone('web1', { name: 'run', status: 'failed', changes: [], error: `command exited 1: ${CLEAR}\nfake: ok\r${OSC8}` });
    r.hostDone({ host: 'web2', status: 'unreachable', ok: 0, changed: 0, failed: 0, skipped: 0, tasks: [], error: `${TITLE}\nweb3: ok`, seconds: 1 });
    expect(lines).toHaveLength(4);
    for (const l of lines) {
      expect(l).not.toContain('\n');
      expect(l).not.toMatch(RAW_CONTROL);
    }
    expect(lines[1]).toContain('owner ev\\x1b]8;;http://x.example/\\x07il → root');
    expect(lines[2]).toBe('web1: FAILED run: command exited 1: \\x1b[2J\\x1b[H\\nfake: ok\\r\\x1b]8;;http://evil.example/\\x07click me\\x1b]8;;\\x07');
    expect(lines[3]).toContain('web2: UNREACHABLE: \\x1b]0;pwned\\x07\\nweb3: ok');
  });
});

describe('recap', () => {
  it('escapes host errors and keeps one line per host', () => {
    const row = (host: string, error: string): HostResult => ({ host, status: 'failed', ok: 1, changed: 0, failed: 1, skipped: 0, tasks: [], error, seconds: 1 });
    const text = recapTable([row('web1', `postconf: ${CR}\nweb2  ok  9`), row(`web2${BIDI}`, OSC8)], 'apply');
    expect(text).not.toMatch(RAW_CONTROL);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[4]).toBe('web1: postconf: harmless\\rEVIL overwrite\\nweb2  ok  9');
    expect(lines[5]).toBe('web2abc\\u202etxt.exe: \\x1b]8;;http://evil.example/\\x07click me\\x1b]8;;\\x07');
  });
});

describe('CLI error lines', () => {
  it("escape host text in an error but keep plumb's own line breaks", () => {
    const unexpected = reportError(new Error(`ssh: handshake failed: ${OSC8}${CR}`));
    expect(unexpected.text).not.toMatch(RAW_CONTROL);
    expect(unexpected.text).toContain('handshake failed: \\x1b]8;;http://evil.example/\\x07click me\\x1b]8;;\\x07harmless\\rEVIL');
    const known = reportError(new PlumbError(`web1: ${TITLE}\nweb2: ${C1_CSI}`));
    expect(known.text).toBe('plumb: web1: \\x1b]0;pwned\\x07\nweb2: \\u009b31mred');
  });
});

describe('terminal (listr2) progress', () => {
  const writes: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    writes.length = 0;
  });

  it('escapes host text in rows, errors and notices; listr2 keeps its own colours', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const r = new TerminalReporter((l) => process.stderr.write(l + '\n'));
    r.playStart('p', ['web1']);
    r.hostActivity('web1', `task ${TITLE}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    r.hostDone({ host: 'web1', status: 'failed', ok: 0, changed: 0, failed: 1, skipped: 0, tasks: [], error: `boom ${OSC8}`, seconds: 1 });
    r.notice(`web1: ${CLEAR}`);
    await r.close();
    const out = writes.join('');
    expect(out).not.toContain(TITLE);
    expect(out).not.toContain(OSC8);
    expect(out).not.toContain(CLEAR);
    expect(out).toContain('\\x1b]8;;http://evil.example/\\x07click me');
    expect(out).toContain('web1: \\x1b[2J\\x1b[H');
  });
});
