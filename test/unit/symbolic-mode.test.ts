/**
 * Symbolic modes against chmod itself: each case is applied by GNU chmod to a real file or
 * directory under a umask and by applySymbolicMode; the modes must be equal.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applySymbolicMode, isSymbolicMode } from '../../src/modules/symbolic-mode.js';

const dir = mkdtempSync(join(tmpdir(), 'plumb-symbolic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases: Array<[string, number, boolean, number]> = [
  ['u=rw,g=r,o=', 0o644, false, 0o022],
  ['u+x,g+x', 0o644, false, 0o022],
  ['a+x', 0o600, false, 0o022],
  ['+x', 0o600, false, 0o027],
  ['+w', 0o444, false, 0o022],
  ['=r', 0o777, false, 0o077],
  ['go-rwx', 0o755, true, 0o022],
  ['u=rwX,g=rX,o=', 0o600, true, 0o022],
  ['u=rwX,g=rX,o=', 0o600, false, 0o022],
  ['u=rwX,g=rX,o=', 0o700, false, 0o022],
  ['g=u', 0o750, false, 0o022],
  ['o=g-w', 0o764, false, 0o022],
  ['u+s,g+s', 0o755, true, 0o022],
  ['+t', 0o777, true, 0o022],
  ['u-s', 0o4755, false, 0o022],
  ['u=rw-w+x', 0o000, false, 0o022],
  ['a=', 0o777, false, 0o022],
];

describe('symbolic modes as chmod applies them', () => {
  it.each(cases)('%s on %o (directory %s, umask %o)', (mode, start, directory, umask) => {
    const path = join(dir, `${Math.random()}`);
    if (directory) mkdirSync(path);
    else writeFileSync(path, '');
    chmodSync(path, start);
    execFileSync('sh', ['-c', `umask ${umask.toString(8)} && chmod -- "$1" "$2"`, 'sh', mode, path]);
    const chmod = (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');
    expect(applySymbolicMode(mode, start, directory, umask)).toBe(chmod);
  });

  it('tells symbolic modes from other text', () => {
    for (const m of ['u=rw,g=r,o=', 'a+x', '+x', 'go-w', 'u=rwX']) expect(isSymbolicMode(m), m).toBe(true);
    for (const m of ['', '0644', 'rw', 'u=rw;rm -rf /', 'u=rw,', 'z+x']) expect(isSymbolicMode(m), m).toBe(false);
  });
});
