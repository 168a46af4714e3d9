/**
 * Ansible's `version` test: LooseVersion (numbers and words compared piece by
 * piece) by default, StrictVersion (`1.2`, `1.2.3`, `1.2a1`) when strict.
 */
import { TemplateError } from './errors.js';

type Piece = number | string;

function loose(v: string): Piece[] {
  return v
    .split(/(\d+|[a-z]+|\.)/i)
    .filter((x) => x && x !== '.')
    .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
}

function strict(v: string): Piece[] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$/.exec(v);
  if (!m) throw new TemplateError(`invalid version number '${v}' (strict versions look like 1.2 or 1.2.3 or 1.2b1)`);
  // A pre-release sorts before the release: 'z' stands for "no pre-release".
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), m[4] ?? 'z', Number(m[5] ?? 0)];
}

function cmp(a: Piece[], b: Piece[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === typeof y) return x < y ? -1 : 1;
    // LooseVersion in Python 3 cannot compare int with str; Ansible then fails. Numbers first is kinder.
    return typeof x === 'number' ? 1 : -1;
  }
  return 0;
}

const OPS: Record<string, (c: number) => boolean> = {
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
};

/** Semantic versions: a pre-release (1.0.0-beta) sorts before its release; build metadata is ignored. */
function semverCompare(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
    if (!m) throw new TemplateError(`invalid semantic version '${v}'`);
    return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4]?.split('.') };
  };
  const x = parse(a);
  const y = parse(b);
  const c = cmp(x.core, y.core);
  if (c) return c;
  if (!x.pre || !y.pre) return x.pre ? -1 : y.pre ? 1 : 0;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    if (i >= x.pre.length) return -1;
    if (i >= y.pre.length) return 1;
    const [p, q] = [x.pre[i], y.pre[i]];
    if (p === q) continue;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

export function compareVersions(a: string, b: string, op: string, isStrict: boolean, type?: string): boolean {
  const test = Object.hasOwn(OPS, op) ? OPS[op] : undefined;
  if (!test) throw new TemplateError(`version: invalid operator "${op}"; use one of ${Object.keys(OPS).join(' ')}`);
  if (type === 'semver' || type === 'semantic') return test(semverCompare(a, b));
  return test(isStrict || type === 'strict' ? cmp(strict(a), strict(b)) : cmp(loose(a), loose(b)));
}
