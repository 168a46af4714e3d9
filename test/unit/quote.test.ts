import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { command, quote, ShellQuoteError } from '../../src/quote.js';
import { HOSTILE_STRINGS } from '../hostile-strings.js';

const hostile = HOSTILE_STRINGS;

describe('quote', () => {
  it.each(hostile.map((s) => [s]))('round-trips %j through /bin/sh byte for byte', (s) => {
    const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${quote(s)}`]);
    expect(out.toString('utf8')).toBe(s);
  });

  it('keeps safe words readable', () => {
    expect(command('postconf', '-h', 'relayhost')).toBe('postconf -h relayhost');
  });

  it('refuses NUL bytes', () => {
    expect(() => quote('a\0b')).toThrow(ShellQuoteError);
  });
});

/**
 * `quote` does not know where its word lands, so a word must mean the same
 * in every position of a command line, including the first (the program).
 * There `A=b` is an environment assignment and `if`/`time` are reserved words.
 */
describe('quote: program words', () => {
  // A PATH directory whose programs print their own argv, NUL-separated, so a
  // test sees exactly which program ran and what it received.
  const bin = mkdtempSync(join(tmpdir(), 'plumb-quote-'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const echoArgv = (name: string) => {
    const file = join(bin, name);
    writeFileSync(file, `#!/bin/sh\nprintf '%s\\0' "\${0##*/}" "$@"\n`);
    chmodSync(file, 0o755);
  };
  const programs = ['A=b', 'PATH=nowhere', 'x=$(id)', 'if', 'then', 'do', 'case', 'for', 'while', 'until', 'time', 'function', 'select'];
  programs.forEach(echoArgv);

  const run = (shell: string, line: string) => {
    // stdin not a socket: Debian's bash sources ~/.bashrc when it thinks sshd started it.
    const r = spawnSync(shell, ['-c', line], { env: { PATH: `${bin}:/usr/bin:/bin` }, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: r.status, argv: r.stdout.toString('utf8').split('\0').slice(0, -1), stderr: r.stderr.toString() };
  };

  it.each(programs.flatMap((p) => ['/bin/sh', '/bin/bash'].map((sh) => [p, sh])))('%j as the program word runs that program under %s', (program, shell) => {
    const r = run(shell, command(program, 'x=1', '--', 'if'));
    expect(r.stderr).toBe('');
    expect(r.argv).toEqual([program, 'x=1', '--', 'if']);
    expect(r.code).toBe(0);
  });

  it('an assignment-shaped first word cannot change how the next word is run', () => {
    // Unquoted this line would be `PATH=nowhere y`: y looked up in a PATH the value chose.
    const r = run('/bin/sh', `${quote('PATH=nowhere')} ${quote('A=b')}`);
    expect(r.argv).toEqual(['PATH=nowhere', 'A=b']);
  });

  it('quotes every word holding = and every reserved word', () => {
    for (const w of ['A=b', 'a=', '=a', '=', 'x.y=z', '-oDPkg::Pre-Invoke::=id', 'if', 'time', 'esac']) expect(quote(w)).toBe(`'${w}'`);
  });

  it('real command lines keep their argv byte for byte (postconf key=value, apt -o, chmod modes)', () => {
    const argv = [
      'postconf',
      '-e',
      'relayhost=[smtp.gmail.com]:587',
      'inet_protocols=ipv4',
      'smtp_tls_policy_maps=inline:{ [smtp.gmail.com]:587=secure }',
      '-o',
      'Dpkg::Options::=--force-confold',
      'u=rwx,g=rx,o=',
      '0644',
    ];
    const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${command(...argv)}`]);
    expect(out.toString('utf8').split('\0').slice(0, -1)).toEqual(argv);
  });

  it.each(hostile.concat(['A=b', 'if', 'PATH=/x', 'a b=c', "k='v'", '$(id)=x']).map((s) => [s]))('argv %j arrives exactly through /bin/sh (printf, NUL-separated)', (s) => {
    const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${command(s, s, 'end')}`]);
    expect(out.toString('utf8').split('\0').slice(0, -1)).toEqual([s, s, 'end']);
  });
});
