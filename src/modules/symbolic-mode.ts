/**
 * Symbolic file modes (`u=rw,g=r,o=`, `a+x`, `g-w,o-rwx`, `u=rwX`) as chmod and Ansible read
 * them: each clause changes the mode the previous one left, starting from the path's current
 * mode (or, for a path about to be created, the mode the umask gives it). A clause without
 * users (`+x`) is `a` limited by the umask, as chmod does.
 */

/** One clause: users, then one or more operator + permissions pairs. */
const CLAUSE = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/;

export function isSymbolicMode(mode: string): boolean {
  return mode.split(',').every((c) => CLAUSE.test(c));
}

const RWX = { u: 0o700, g: 0o070, o: 0o007 } as const;
const SPECIAL = { u: 0o4000, g: 0o2000, o: 0o1000 } as const;
const SHIFT = { u: 6, g: 3, o: 0 } as const;
type Who = 'u' | 'g' | 'o';

/** The bits `perms` stand for in `who`'s place; `prev` is the mode so far (for X and for copying u/g/o). */
function bitsFor(who: Who, perms: string, prev: number, directory: boolean, umask: number | undefined): number {
  let bits = 0;
  const allow = umask === undefined ? 0o7777 : ~umask & 0o7777;
  for (const p of perms) {
    if (p === 'r') bits |= (0o4 << SHIFT[who]) & allow;
    else if (p === 'w') bits |= (0o2 << SHIFT[who]) & allow;
    else if (p === 'x') bits |= (0o1 << SHIFT[who]) & allow;
    else if (p === 'X') bits |= directory || (prev & 0o111) !== 0 ? 0o1 << SHIFT[who] : 0;
    else if (p === 's') bits |= who === 'o' ? 0 : SPECIAL[who];
    else if (p === 't') bits |= who === 'o' ? SPECIAL.o : 0;
    else bits |= ((prev >> SHIFT[p as Who]) & 0o7) << SHIFT[who];
  }
  return bits;
}

/** The octal mode ("0640") a symbolic `mode` gives a path whose mode is now `current`. */
export function applySymbolicMode(mode: string, current: number, directory: boolean, umask: number): string {
  let result = current & 0o7777;
  for (const clause of mode.split(',')) {
    const m = CLAUSE.exec(clause);
    if (!m) throw new Error(`not a symbolic mode: ${clause}`);
    const users = m[1] === '' || m[1].includes('a') ? 'ugo' : m[1];
    const limited = m[1] === '' ? umask : undefined;
    for (const [, op, perms] of m[2].matchAll(/([-+=])([rwxXstugo]*)/g)) {
      for (const who of users as Iterable<Who>) {
        const bits = bitsFor(who, perms, result, directory, limited);
        if (op === '+') result |= bits;
        else if (op === '-') result &= ~bits;
        else result = (result & ~(RWX[who] | SPECIAL[who])) | bits;
      }
    }
  }
  return result.toString(8).padStart(4, '0');
}
