/**
 * copy, template, file, lineinfile, command and shell run for real on this
 * machine: their probe snippets are batched into one /bin/sh script against a
 * temp directory, parsed, diffed, applied, and probed again. This proves the
 * snippets are valid sh that coexist in one script, and that each module
 * converges: a change first, none after apply.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { splitWords } from '../../src/modules/command.js';
import { fakeContext } from './context.js';
import { applyAll, type LocalTask, plan } from './local.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-modules-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;

/** plan → expect changes → apply → plan → expect none; returns the first plan's summaries per task. */
function converge(tasks: LocalTask[], ctx = fakeContext()): string[][] {
  const first = plan(tasks, ctx);
  for (const p of first) if (!p.probed.known) throw new Error(`${p.task.module}: unknown: ${p.probed.reason}`);
  applyAll(first, ctx);
  const second = plan(tasks, ctx);
  expect(second.map((p) => p.changes.map((c) => c.summary))).toEqual(tasks.map(() => []));
  return first.map((p) => p.changes.map((c) => c.summary));
}

describe('copy and template on a real filesystem', () => {
  it('creates, converges, then repairs drift with a unified diff', () => {
    const dest = join(dir, 'motd');
    const task: LocalTask = { module: 'copy', args: { dest, content: 'hello\nworld\n', mode: '0640' } };
    expect(converge([task])).toEqual([[`create ${dest} (12 bytes)`, 'mode 0640']]);
    expect(readFileSync(dest, 'utf8')).toBe('hello\nworld\n');
    expect(statSync(dest).mode & 0o7777).toBe(0o640);

    writeFileSync(dest, 'hello\nthere\n');
    const [drift] = plan([task], fakeContext());
    expect(drift.changes.map((c) => c.summary)).toEqual(['content changed']);
    expect(drift.changes[0].diff).toContain('-there');
    expect(drift.changes[0].diff).toContain('+world');
    converge([task]);
    expect(readFileSync(dest, 'utf8')).toBe('hello\nworld\n');
  });

  it('never puts secret content in changes, step descriptions or state, and still writes it', () => {
    const dest = join(dir, 'sasl_passwd');
    const secret = 'hunter2-app-pw';
    const ctx = fakeContext({ secrets: [secret] });
    writeFileSync(dest, '[smtp.gmail.com]:587 me@gmail.com:old-password\n', { mode: 0o600 });
    const task: LocalTask = { module: 'copy', args: { dest, content: `[smtp.gmail.com]:587 me@gmail.com:${secret}\n`, mode: '0600' } };
    const [first] = plan([task], ctx);
    expect(first.changes.map((c) => c.summary)).toEqual(['content changed (secret)']);
    expect(first.changes[0]).toMatchObject({ secret: true });
    expect(first.changes[0].diff).toBeUndefined();
    // The probe did not fetch the old content either: the plan must not carry the old password.
    expect(first.stdout).not.toContain('content ');
    expect(JSON.stringify(first.probed)).not.toContain('old-password');
    expect(JSON.stringify(first.probed)).toMatch(/"secretFields":\["file.sha256"\]/);
    const steps = applyAll([first], ctx);
    for (const s of steps) expect(s.describe).not.toContain(secret);
    expect(JSON.stringify(first.changes)).not.toContain(secret);
    expect(readFileSync(dest, 'utf8')).toContain(secret);
    const [second] = plan([task], ctx);
    expect(second.changes).toEqual([]);
  });

  it('backup keeps the old file beside the new one', () => {
    const dest = join(dir, 'app.conf');
    writeFileSync(dest, 'old\n');
    converge([{ module: 'copy', args: { dest, content: 'new\n', backup: true } }]);
    const backups = readdirSync(dir).filter((f) => f.startsWith('app.conf.') && f.endsWith('~'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(dir, backups[0]), 'utf8')).toBe('old\n');
    expect(readFileSync(dest, 'utf8')).toBe('new\n');
  });

  it('copies a local binary src byte for byte', () => {
    const dest = join(dir, 'blob.bin');
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 0]);
    const ctx = fakeContext({ files: { 'files/blob.bin': bytes } });
    expect(converge([{ module: 'copy', args: { dest, src: 'files/blob.bin' } }], ctx)).toEqual([[`create ${dest} (7 bytes)`]]);
    expect(readFileSync(dest).equals(bytes)).toBe(true);
  });

  it('renders a template and converges', () => {
    const dest = join(dir, 'main.cf');
    const ctx = fakeContext({ files: { 'main.cf.j2': 'relayhost = {{ relay }}\n' }, vars: { relay: '[smtp.gmail.com]:587' } });
    converge([{ module: 'template', args: { src: 'main.cf.j2', dest } }], ctx);
    expect(readFileSync(dest, 'utf8')).toBe('relayhost = [smtp.gmail.com]:587\n');
  });

  it('a path with quotes, spaces and $ survives the probe and the write', () => {
    const dest = join(dir, `it's a "$HOME" file`);
    converge([{ module: 'copy', args: { dest, content: 'x' } }]);
    expect(readFileSync(dest, 'utf8')).toBe('x');
  });

  it('a symlinked dest is never read: the plan names the target, apply replaces the link and leaves the target alone', () => {
    const target = join(dir, 'shadow');
    const link = join(dir, 'link');
    writeFileSync(target, 'root:$y$j9T$secrethash:19000:0:99999:7:::\n', { mode: 0o640 });
    symlinkSync(target, link);
    const task: LocalTask = { module: 'copy', args: { dest: link, content: 'hello\n' } };
    const [p] = plan([task], fakeContext());
    expect(p.stdout).not.toContain(Buffer.from('root:$y$').toString('base64').slice(0, 8));
    expect(JSON.stringify(p.probed)).not.toMatch(/secrethash|sha256|\b640\b/);
    expect(p.changes.map((c) => c.summary)).toEqual([`${link} is a symlink to ${target}; will be replaced by a regular file (6 bytes)`]);
    expect(p.changes[0].diff).not.toContain('secrethash');
    // Equal content through the link is still a change: the link itself is what copy replaces.
    writeFileSync(target, 'hello\n');
    converge([task]);
    expect(lstatSync(link).isSymbolicLink()).toBe(false);
    expect(readFileSync(link, 'utf8')).toBe('hello\n');
    expect(readFileSync(target, 'utf8')).toBe('hello\n');
    expect(statSync(target).mode & 0o7777).toBe(0o640);
  });

  it('a dangling symlink is replaced too, and the file it named is not created', () => {
    const link = join(dir, 'dangling');
    symlinkSync(join(dir, 'nowhere'), link);
    converge([{ module: 'copy', args: { dest: link, content: 'x' } }]);
    expect(lstatSync(link).isFile()).toBe(true);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });
});

describe('symlinks under file and lineinfile on a real filesystem', () => {
  it('lineinfile on a symlink edits the target and keeps the link, as Ansible (deliberate change: it used to refuse)', () => {
    const target = join(dir, 'real.conf');
    const link = join(dir, 'link.conf');
    writeFileSync(target, 'x=1\n', { mode: 0o600 });
    symlinkSync('real.conf', link);
    expect(converge([{ module: 'lineinfile', args: { path: link, line: 'a=1' } }])).toEqual([['add line a=1']]);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('x=1\na=1\n');
    expect(statSync(target).mode & 0o7777).toBe(0o600);
  });

  it('file: mode on a symlink with follow false fails; absent removes only the link', () => {
    const target = join(dir, 'keep');
    const link = join(dir, 'l');
    writeFileSync(target, 'k', { mode: 0o600 });
    symlinkSync(target, link);
    expect(() => plan([{ module: 'file', args: { path: link, mode: '0644', follow: false } }], fakeContext())).toThrow(
      `${link} is a symlink to ${target}; with follow: false file does not go through it`,
    );
    expect(statSync(target).mode & 0o7777).toBe(0o600);
    expect(converge([{ module: 'file', args: { path: link, state: 'absent' } }])).toEqual([[`remove ${link}, a symlink to ${target} (the target is kept)`]]);
    expect(existsSync(link)).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('k');
  });

  it('file: mode on a symlink changes its target by default (follow: true, as Ansible), and a plain touch changes every run', () => {
    const target = join(dir, 'followed');
    const link = join(dir, 'fl');
    writeFileSync(target, 'k', { mode: 0o644 });
    symlinkSync(target, link);
    expect(converge([{ module: 'file', args: { path: link, mode: '0600' } }])).toEqual([['mode 0644 → 0600']]);
    expect(statSync(target).mode & 0o7777).toBe(0o600);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const [again] = plan([{ module: 'file', args: { path: target, state: 'touch' } }], fakeContext());
    expect(again.changes.map((c) => c.summary)).toEqual([`set the access and modification times of ${target} to now`]);
  });

  it('a symlink planted between plan and apply is not followed by mode, owner or group changes', () => {
    const target = join(dir, 'shadow');
    const f = join(dir, 'conf');
    writeFileSync(target, 'secret', { mode: 0o600 });
    writeFileSync(f, 'x', { mode: 0o644 });
    const planned = plan([{ module: 'file', args: { path: f, mode: '0666' } }], fakeContext());
    expect(planned[0].changes.map((c) => c.summary)).toEqual(['mode 0644 → 0666']);
    rmSync(f);
    symlinkSync(target, f);
    expect(() => applyAll(planned, fakeContext())).toThrow('became a symlink after it was read');
    expect(statSync(target).mode & 0o7777).toBe(0o600);
  });

  it.skipIf(!isRoot)('chown and chgrp change a link planted after the plan, never its target (needs root)', () => {
    const target = join(dir, 'kept');
    const f = join(dir, 'owned');
    writeFileSync(target, 'k');
    writeFileSync(f, '');
    const planned = plan([{ module: 'file', args: { path: f, owner: 'nobody', group: 'nogroup' } }], fakeContext());
    rmSync(f);
    symlinkSync(target, f);
    applyAll(planned, fakeContext());
    expect(statSync(target).uid).toBe(0);
    expect(statSync(target).gid).toBe(0);
    expect(lstatSync(f).uid).not.toBe(0);
  });

  it('a symlink to a directory is removed as a link, and the directory keeps its files', () => {
    const target = join(dir, 'data');
    mkdirSync(target);
    writeFileSync(join(target, 'f'), 'f');
    const link = join(dir, 'data-link');
    symlinkSync(target, link);
    converge([{ module: 'file', args: { path: link, state: 'absent' } }]);
    expect(existsSync(link)).toBe(false);
    expect(readFileSync(join(target, 'f'), 'utf8')).toBe('f');
  });
});

describe('file on a real filesystem', () => {
  it('directory, touch and absent converge', () => {
    const d = join(dir, 'a', 'b');
    const f = join(dir, 'a', 'log');
    const gone = join(dir, 'old');
    mkdirSync(join(gone, 'sub'), { recursive: true });
    writeFileSync(join(gone, 'sub', 'x'), 'x');
    const summaries = converge([
      { module: 'file', args: { path: d, state: 'directory', mode: '0750' } },
      // Both times preserved: touch only creates, so the second plan is empty (a plain touch changes every run, as Ansible).
      { module: 'file', args: { path: f, state: 'touch', mode: '0600', access_time: 'preserve', modification_time: 'preserve' } },
      { module: 'file', args: { path: gone, state: 'absent' } },
    ]);
    expect(summaries).toEqual([[`create directory ${d}`, 'mode 0750'], [`create empty file ${f}`, 'mode 0600'], [`remove directory ${gone}`]]);
    expect(statSync(d).isDirectory()).toBe(true);
    expect(statSync(d).mode & 0o7777).toBe(0o750);
    expect(statSync(f).size).toBe(0);
    expect(existsSync(gone)).toBe(false);
  });

  it.skipIf(!isRoot)('owner and group by name (needs root: chown)', () => {
    const f = join(dir, 'owned');
    writeFileSync(f, '');
    expect(converge([{ module: 'file', args: { path: f, owner: 'nobody', group: 'nogroup' } }])).toEqual([['owner root → nobody', 'group root → nogroup']]);
    expect(statSync(f).uid).not.toBe(0);
  });

  it('state file on a missing path is unknown with the reason', () => {
    const [p] = plan([{ module: 'file', args: { path: join(dir, 'nope'), mode: '0600' } }], fakeContext());
    expect(p.probed).toMatchObject({ known: false });
  });
});

describe('lineinfile on a real filesystem', () => {
  it('creates, replaces by regexp, appends and removes, each converging', () => {
    const path = join(dir, 'main.cf');
    converge([{ module: 'lineinfile', args: { path, line: 'inet_protocols = all', create: true, mode: '0644' } }]);
    expect(readFileSync(path, 'utf8')).toBe('inet_protocols = all\n');
    converge([{ module: 'lineinfile', args: { path, regexp: '^inet_protocols\\s*=', line: 'inet_protocols = ipv4' } }]);
    converge([{ module: 'lineinfile', args: { path, line: 'relayhost = [smtp.gmail.com]:587', insertafter: '^inet_' } }]);
    expect(readFileSync(path, 'utf8')).toBe('inet_protocols = ipv4\nrelayhost = [smtp.gmail.com]:587\n');
    converge([{ module: 'lineinfile', args: { path, regexp: '^inet_', state: 'absent' } }]);
    expect(readFileSync(path, 'utf8')).toBe('relayhost = [smtp.gmail.com]:587\n');
    expect(statSync(path).mode & 0o7777).toBe(0o644);
  });
});

describe('command and shell guards on a real filesystem', () => {
  it('creates: runs once, then the guard holds', () => {
    const marker = join(dir, 'done');
    const summaries = converge([{ module: 'command', args: { argv: ['touch', marker], creates: marker } }]);
    expect(summaries[0][0]).toMatch(/^will run: touch .* \(.*done does not exist\)$/);
    expect(existsSync(marker)).toBe(true);
  });

  it('shell with chdir, relative creates and a pipe', () => {
    const summaries = converge([{ module: 'shell', args: { cmd: 'echo hi | tr a-z A-Z > out.txt', chdir: dir, creates: 'out.txt' } }]);
    expect(summaries[0][0]).toContain('will run: echo hi | tr a-z A-Z > out.txt');
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('HI\n');
  });

  it('unless: a command that succeeds skips; a syntax error in it does not break the batch', () => {
    const target = join(dir, 'flag');
    const tasks: LocalTask[] = [
      { module: 'shell', args: { cmd: `echo x > '${target}'`, unless: `test -s '${target}'` } },
      { module: 'command', args: { cmd: 'true', unless: 'if then fi (' } },
      { module: 'command', args: { cmd: 'true', removes: join(dir, 'absent') } },
    ];
    const first = plan(tasks, fakeContext());
    expect(first.map((p) => p.changes.length)).toEqual([1, 1, 0]);
    applyAll(first, fakeContext());
    expect(plan(tasks, fakeContext()).map((p) => p.changes.length)).toEqual([0, 1, 0]);
  });

  it('command passes $, * and ; literally', () => {
    const out = join(dir, 'args');
    converge([{ module: 'command', args: { cmd: `sh -c 'printf "%s|" "$@" > ${out}' sh '$HOME' * ';'`, creates: out } }]);
    expect(readFileSync(out, 'utf8')).toBe('$HOME|*|;|');
  });

  it('without a guard the change is always there', () => {
    const tasks: LocalTask[] = [{ module: 'command', args: 'true' }];
    expect(plan(tasks, fakeContext())[0].changes.map((c) => c.summary)).toEqual(['will run: true']);
    applyAll(plan(tasks, fakeContext()), fakeContext());
    expect(plan(tasks, fakeContext())[0].changes).toHaveLength(1);
  });
});

describe('command and shell input and shell on a real filesystem', () => {
  it('stdin reaches the program, with a newline unless stdin_add_newline is false; executable picks the shell', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const c = join(dir, 'c');
    const ran = plan(
      [
        { module: 'command', args: { cmd: `tee ${a}`, stdin: 'one' } },
        { module: 'shell', args: { cmd: `cat > ${b}`, stdin: 'two', stdin_add_newline: false } },
        { module: 'shell', args: { cmd: `echo "\${BASH_VERSION:+bash}" > ${c}`, executable: '/bin/bash' } },
      ],
      fakeContext(),
    );
    for (const p of ran) expect(p.steps[0].describe).not.toMatch(/one|two/);
    applyAll(ran, fakeContext());
    expect(readFileSync(a, 'utf8')).toBe('one\n');
    expect(readFileSync(b, 'utf8')).toBe('two');
    expect(readFileSync(c, 'utf8')).toBe('bash\n');
  });
});

describe('command word splitting matches /bin/sh', () => {
  const lines = [`a 'b c' "d \\"e\\"" f\\ g`, `printf '%s' "it's"`, `x  "" ''  y`, `"a"'b'c`, `one\ttwo`, `"back\\\\slash" 'single\\'`];
  it.each(lines)('%s', (line) => {
    const bySh = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' })
      .split('\0')
      .slice(0, -1);
    expect(splitWords(line)).toEqual(bySh);
  });
});
