import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { command, quote, ShellQuoteError } from '../../src/shell.js';

const hostile = [
  "it's", '"double"', '$(id)', '`id`', 'a; rm -rf /', 'line1\nline2', '*', '?', '[a-z]', '-rf', '--help',
  'ünïcødé ✓ 日本', '$HOME', '\\', "'", "''", ' leading space', 'trailing space ', '\t', '!event', '~root', 'a|b', 'a&b', '>out', '#comment', '',
];

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
