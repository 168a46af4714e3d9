/**
 * The module list is the one place a module is registered: each module must
 * bring its own table cases, a conformance entry on a real host, a described
 * schema, and the generated docs and JSON Schema must be current.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { jsonSchema } from '../../src/config/jsonschema.js';
import { defaultName } from '../../src/config/playbook.js';
import { modulesMarkdown } from '../../src/modules/docs.js';
import { type ModuleName, moduleNames, modules } from '../../src/modules/index.js';
import { conformanceCases } from '../e2e/conformance-cases.js';
import { fleetKnownDifferencesFile } from './oracle/fleet-harness.js';
import { readKnownDifferences } from './oracle/harness.js';

const root = join(import.meta.dirname, '../..');

type Json = { properties?: Record<string, { description?: string }>; additionalProperties?: { description?: string } | boolean; description?: string };

describe.each(moduleNames)('module %s', (name) => {
  const module = modules[name];

  it('has table cases under test/modules/cases/<module>/', () => {
    const dir = join(root, 'test/modules/cases', name);
    expect(existsSync(dir), `no test/modules/cases/${name}/`).toBe(true);
    expect(readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).length).toBeGreaterThan(0);
  });

  it('has a conformance entry in test/e2e/conformance.test.ts', () => {
    expect(
      conformanceCases.some((c) => Object.keys(c.task).includes(name)),
      `no conformance case runs ${name}`,
    ).toBe(true);
  });

  it('describes every argument and itself in one line', () => {
    const json = z.toJSONSchema(module.schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Json;
    const fields = Object.entries(json.properties ?? {});
    if (typeof json.additionalProperties === 'object') fields.push(['(any)', json.additionalProperties]);
    // A module without arguments (service_facts, as in Ansible) is a strict empty object: it refuses any key.
    if (fields.length === 0) expect(module.schema.safeParse({ anything: 1 }).success).toBe(false);
    for (const [field, s] of fields) expect(s.description, `${name}.${field} has no .describe()`).toBeTruthy();
    expect(module.summary).toMatch(/^[^\n]{10,200}$/);
  });

  it('takes its declared free form, and only a module that declares one takes a string', () => {
    const parsed = module.schema.safeParse('some text');
    if (module.freeForm) {
      expect(parsed.success).toBe(true);
      expect(parsed.data).toMatchObject({ [module.freeForm]: 'some text' });
    } else {
      expect(parsed.success).toBe(false);
    }
  });

  it('names a task without a name from its own title', () => {
    expect(defaultName(name, {})).toMatch(new RegExp(`^${name}`));
  });
});

describe('generated files', () => {
  it('docs/modules.md is current (run npm run docs)', () => {
    expect(readFileSync(join(root, 'docs/modules.md'), 'utf8')).toBe(modulesMarkdown());
  });

  it('schemas/playbook.schema.json is current (run npm run schemas)', () => {
    expect(JSON.parse(readFileSync(join(root, 'schemas/playbook.schema.json'), 'utf8'))).toEqual(jsonSchema('playbook'));
  });

  it('a module with differential cases that differ from Ansible says how in its docs (differences)', () => {
    const known = [...readKnownDifferences().differences, ...readKnownDifferences(fleetKnownDifferencesFile).differences];
    const differing = new Set(known.flatMap((d) => d.cases.map((id) => id.split('/')[0])));
    for (const name of differing) expect(modules[name as ModuleName]?.differences?.length ?? 0, `${name}: differences for docs/modules.md`).toBeGreaterThan(0);
  });

  it('every conformance case runs a registered module', () => {
    for (const c of conformanceCases)
      expect(
        moduleNames.some((n) => n in c.task),
        c.module,
      ).toBe(true);
  });
});
