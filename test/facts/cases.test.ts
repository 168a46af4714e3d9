/**
 * Facts as data: every file under test/facts/cases/<fact>/ is one case — the
 * fact's parameters and the output its snippet printed on a host in, the
 * value (or why it is unknown) out. Every case also checks that the snippet
 * is valid sh and that the value survives JSON (saved plans fingerprint it).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { facts } from '../../src/facts/index.js';
import { fact } from '../../src/facts/types.js';

interface Case {
  description: string;
  params: unknown;
  /** The snippet's stdout, or the whole output. */
  output: string | { stdout: string; stderr?: string; code?: number };
  probeContains?: string[];
  probeExcludes?: string[];
  value?: unknown;
  /** A subset of the value (toMatchObject). */
  valueMatches?: Record<string, unknown>;
  /** The fact is unknown, with a reason containing this. */
  unknown?: string;
}

const root = join(import.meta.dirname, 'cases');

describe('every fact has data cases', () => {
  it.each(Object.keys(facts))('%s', (name) => {
    const dir = join(root, name);
    expect(readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).length, `no cases under test/facts/cases/${name}/`).toBeGreaterThan(0);
  });
});

for (const name of readdirSync(root).sort()) {
  const def = facts[name];
  describe(`${name} fact`, () => {
    it('names a registered fact', () => expect(def, `no fact ${name}`).toBeDefined());
    const files = readdirSync(join(root, name))
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    it.each(files)('%s', (file) => {
      const c = parseYaml(readFileSync(join(root, name, file), 'utf8')) as Case;
      const ref = fact(def, c.params);
      const snippet = def.probe(c.params);
      execFileSync('/bin/sh', ['-n', '-c', snippet]); // throws on a syntax error
      for (const s of c.probeContains ?? []) expect(snippet).toContain(s);
      for (const s of c.probeExcludes ?? []) expect(snippet).not.toContain(s);
      expect(ref.key.startsWith(`${name} `)).toBe(true);

      const out = typeof c.output === 'string' ? { stdout: c.output, stderr: '', code: 0 } : { stderr: '', code: 0, ...c.output };
      const value = def.parse(c.params, out);
      if (c.unknown !== undefined) {
        expect(value).toMatchObject({ known: false });
        if (!value.known) expect(value.reason).toContain(c.unknown);
        return;
      }
      if (!value.known) throw new Error(`expected a known value, got unknown: ${value.reason}`);
      expect(JSON.parse(JSON.stringify(value.state))).toEqual(value.state);
      if (c.value === undefined && c.valueMatches === undefined) throw new Error('a case needs `value`, `valueMatches` or `unknown`');
      if (c.value !== undefined) expect(value.state).toEqual(c.value);
      if (c.valueMatches !== undefined) expect(value.state).toMatchObject(c.valueMatches);
    });
  });
}

describe('fact keys', () => {
  it('differ whenever the parameters differ, even where a path contains what looks like an option', () => {
    const file = facts.file;
    const a = fact(file, { path: '/a|hash', hash: false, fetchLimit: 0 });
    const b = fact(file, { path: '/a', hash: true, fetchLimit: 0 });
    const c = fact(file, { path: '/a', hash: true, fetchLimit: 0 });
    expect(a.key).not.toBe(b.key);
    expect(b.key).toBe(c.key);
  });
});
