/**
 * What a host holds is untrusted (issue 10, class 4), on a real Debian host:
 * a dest symlinked to /etc/shadow is never read into a plan and is replaced
 * by a regular file; lineinfile refuses a symlink; file content and owner
 * names full of terminal control sequences and markdown comment/fence/heading
 * markers reach the text, markdown and JSON plans only escaped.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { plumb, type PlumbRun } from './plumb.js';
import { outsideFences } from '../markdown.js';

const isRoot = process.getuid?.() === 0;
const runE2E = isRoot || process.env.CI === 'true';
if (!runE2E) console.warn('hostile-host e2e tests skipped: they need root (network namespaces, overlayfs, chroot)');

/** Raw bytes a terminal would act on: C0 except newline and tab, DEL, C1, bidi controls. */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const HOSTILE = [
  'first line',
  '\x1b[2J\x1b[Hscreen cleared',
  '\x1b]8;;http://evil.example/\x07click me\x1b]8;;\x07',
  'harmless\rEVIL overwrite',
  '<!-- everything after this is hidden from a reviewer',
  '```',
  '# forged heading',
  '\u202eevil bidi',
  '',
].join('\n');

describe.skipIf(!runE2E)('hostile host data on the fleet', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let host: string;
  let dir: string;
  let shadowLines: string[];
  let shadowHash: string;
  const playbook = () => join(dir, 'hostile.yaml');
  const lineinfileBook = () => join(dir, 'lineinfile.yaml');

  const run = (args: string[]): Promise<PlumbRun> => plumb([...args, '-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath, '--limit', host]);
  const sh = (cmd: string, input?: string) => fleet.sh(host, cmd, input);
  const noShadow = (r: PlumbRun) => {
    for (const line of shadowLines) {
      expect(r.stdout, `shadow line ${line.split(':')[0]} in stdout`).not.toContain(line);
      expect(r.stderr).not.toContain(line);
    }
    expect(r.stdout).not.toContain(shadowHash);
  };

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 1 });
    host = fleet.hosts[0].name;
    dir = mkdtempSync(join(tmpdir(), 'plumb-hostile-'));
    writeFileSync(
      playbook(),
      `- name: hostile host data
  hosts: all
  tasks:
    - name: motd over a link to shadow
      copy: { dest: /etc/plumb-motd, content: "hello\\n" }
    - name: config with terminal and markdown tricks
      copy: { dest: /etc/plumb-hostile.conf, content: "clean\\n" }
    - name: owned by a hostile user name
      file: { path: /etc/plumb-owned, owner: root, group: root }
`,
    );
    writeFileSync(
      lineinfileBook(),
      `- name: lineinfile through a link
  hosts: all
  tasks:
    - name: edit a linked config
      lineinfile: { path: /etc/plumb-linked.conf, line: "a=1" }
`,
    );
    // Give shadow a recognisable line so a leak cannot hide behind an empty file.
    await sh(`printf 'plumbleak:$y$j9T$Zm9vYmFyYmF6$aGVsbG8gd29ybGQ:19000:0:99999:7:::\\n' >> /etc/shadow`);
    shadowLines = (await sh('cat /etc/shadow')).split('\n').filter((l) => l.includes(':'));
    shadowHash = (await sh('sha256sum < /etc/shadow')).split(' ')[0];
    await sh('ln -s /etc/shadow /etc/plumb-motd');
    await sh('cat > /etc/plumb-hostile.conf', HOSTILE);
    // An OSC 0 (window title) sequence: no ':' in it, which would split the passwd fields.
    await sh(`printf 'ev\\033]0;pwned\\007il:x:4242:4242::/nonexistent:/usr/sbin/nologin\\n' >> /etc/passwd`);
    await sh(`printf 'ev\\033[31mgrp:x:4242:\\n' >> /etc/group`);
    await sh('touch /etc/plumb-owned && chown 4242:4242 /etc/plumb-owned');
    await sh('printf "keep=1\\n" > /etc/plumb-real.conf && ln -s /etc/plumb-real.conf /etc/plumb-linked.conf');
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('text plan: names the symlink target, shows no shadow line, and escapes every control sequence', async () => {
    const r = await run(['plan', playbook()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain('/etc/plumb-motd is a symlink to /etc/shadow; will be replaced by a regular file (6 bytes)');
    noShadow(r);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain('-\\x1b]8;;http://evil.example/\\x07click me\\x1b]8;;\\x07');
    expect(r.stdout).toContain('-harmless\\rEVIL overwrite');
    expect(r.stdout).toContain('-\\u202eevil bidi');
    expect(r.stdout).toContain('owner ev\\x1b]0;pwned\\x07il → root');
    expect(r.stdout).toContain('group ev\\x1b[31mgrp → root');
  });

  it('markdown plan: host text cannot hide or forge a line outside its fence', async () => {
    const r = await run(['plan', playbook(), '--format', 'markdown']);
    expect(r.code, r.stderr).toBe(2);
    noShadow(r);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    const outside = outsideFences(r.stdout);
    expect(outside.join('\n')).not.toContain('<!--');
    expect(outside.filter((l) => l.startsWith('#')).every((l) => /^#{2,4} (plumb plan|Play|\S+ \(1 host\))/.test(l))).toBe(true);
    expect(outside.join('\n')).toContain('is a symlink to /etc/shadow; will be replaced by a regular file');
    expect(r.stdout).toContain('-<!-- everything after this is hidden from a reviewer');
    expect(outside.join('\n')).toContain('owner ev\\x1b\\]0;pwned\\x07il → root');
  });

  it('JSON plan: valid JSON with the host text intact, no raw control bytes and no shadow line', async () => {
    const r = await run(['plan', playbook(), '--format', 'json']);
    expect(r.code, r.stderr).toBe(2);
    noShadow(r);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    const doc = JSON.parse(r.stdout);
    const diffs = doc.hosts[0].tasks.flatMap((t: { changes: Array<{ diff?: string }> }) => t.changes.map((c) => c.diff ?? '')).join('\n');
    expect(diffs).toContain('-\u202eevil bidi');
    expect(diffs).toContain('\x1b]8;;http://evil.example/');
    const saved = join(dir, 'plan.json');
    const s = await run(['plan', playbook(), '--out', saved]);
    expect(s.code, s.stderr).toBe(2);
    const file = readFileSync(saved, 'utf8');
    expect(file).not.toMatch(RAW_CONTROL);
    for (const line of shadowLines) expect(file).not.toContain(line);
    expect(JSON.parse(file).hosts[0].tasks).toEqual(doc.hosts[0].tasks);
  });

  it('apply replaces the link with a regular file and leaves /etc/shadow untouched', async () => {
    const r = await run(['apply', playbook()]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    noShadow(r);
    expect(await sh('stat -c %F /etc/plumb-motd')).toBe('regular file');
    expect(await sh('cat /etc/plumb-motd')).toBe('hello');
    expect(await sh('stat -c %F /etc/shadow')).toBe('regular file');
    expect((await sh('sha256sum < /etc/shadow')).split(' ')[0]).toBe(shadowHash);
    const again = await run(['plan', playbook()]);
    expect(again.code, again.stdout).toBe(0);
  });

  it('lineinfile on a symlink edits its target, as Ansible does (issue 15), and the plan names the real file, not the link', async () => {
    const p = await run(['plan', lineinfileBook()]);
    expect(p.code, p.stderr).toBe(2);
    // A reviewer sees which file really changes: the link's target.
    expect(p.stdout).toContain('/etc/plumb-real.conf');
    expect(p.stdout).toContain('add line a=1');
    const a = await run(['apply', lineinfileBook()]);
    expect(a.code, a.stderr).toBe(0);
    expect(await sh('cat /etc/plumb-real.conf')).toBe('keep=1\na=1');
    expect(await sh('stat -c %F /etc/plumb-linked.conf')).toBe('symbolic link');
    const again = await run(['plan', lineinfileBook()]);
    expect(again.code, again.stdout).toBe(0);
  });

  it('a hostile hostname and os-release reach the plan as escaped data, never rendered as a template (issue 13 facts)', async () => {
    const book = join(dir, 'facts.yaml');
    writeFileSync(
      book,
      `- name: facts from a hostile host
  hosts: all
  tasks:
    - name: describe the host
      copy:
        dest: /etc/plumb-facts
        content: "host={{ ansible_hostname }} rel={{ ansible_distribution_release }} ver={{ ansible_distribution_version | length }} id={{ ansible_facts.os_family }}\\n"
`,
    );
    const long = 'v'.repeat(5000);
    const savedRelease = await sh('cat /etc/os-release');
    const savedName = await sh('cat /proc/sys/kernel/hostname');
    // The kernel takes any bytes up to 64 as a host name; the host's own UTS namespace keeps it there.
    await sh(`printf '{{ 7*7 }}\\033[2J\\033]0;t\\007\\342\\200\\256x' > /proc/sys/kernel/hostname`);
    await sh('cat > /etc/os-release', `PRETTY_NAME="Debian GNU/Linux 12 (\x1b]8;;http://evil.example/\x07{{ lookup('pipe','id') }})"\nID=debian\nVERSION_ID="${long}"\n`);
    try {
      const r = await run(['plan', book]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).not.toMatch(RAW_CONTROL);
      expect(r.stderr).not.toMatch(RAW_CONTROL);
      // The release is PRETTY_NAME's parenthesised part up to the first ")", as Ansible's regex reads it.
      expect(r.stdout).toContain(`+host={{ 7*7 }}\\x1b[2J\\x1b]0;t\\x07\\u202ex rel=\\x1b]8;;http://evil.example/\\x07{{ lookup('pipe','id' ver=5000 id=Debian`);
      expect(r.stdout).not.toContain('host=49');
      expect(r.stdout).not.toContain('uid=0');
      const j = await run(['plan', book, '--format', 'json']);
      expect(j.stdout).not.toMatch(RAW_CONTROL);
      const diff = JSON.parse(j.stdout)
        .hosts[0].tasks[0].changes.map((c: { diff?: string }) => c.diff ?? '')
        .join('');
      expect(diff).toContain(`+host={{ 7*7 }}\x1b[2J\x1b]0;t\x07\u202ex rel=\x1b]8;;http://evil.example/\x07{{ lookup('pipe','id' ver=5000`);
    } finally {
      await sh('cat > /etc/os-release', `${savedRelease}\n`);
      await sh(`printf '%s' '${savedName}' > /proc/sys/kernel/hostname`);
    }
  });
});
