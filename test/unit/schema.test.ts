/** `plumb schema` output: generated from the zod schemas, shipped in schemas/, and accepted by a JSON Schema validator. */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { jsonSchema } from '../../src/config/jsonschema.js';
import { run } from '../../src/cli/main.js';

function compile(kind: 'playbook' | 'inventory') {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  return ajv.compile(jsonSchema(kind));
}
const yaml = (file: string) => parse(readFileSync(file, 'utf8'));

describe('JSON Schema', () => {
  it('the shipped playbook and fixtures validate against the emitted playbook schema', () => {
    const validate = compile('playbook');
    for (const file of ['playbooks/postfix-gmail-relay.yaml', 'test/fixtures/good/site.yaml', 'test/fixtures/good/minimal.yaml']) {
      const ok = validate(yaml(file));
      expect(validate.errors ?? [], file).toEqual([]);
      expect(ok).toBe(true);
    }
  });

  it('rejects what validation rejects: numeric modes, unknown keys, two modules, no hosts', () => {
    const validate = compile('playbook');
    for (const file of ['octal-mode', 'notify-typo', 'two-modules', 'missing-hosts', 'unknown-module', 'apt-state-enum', 'mapping-not-list']) {
      expect(validate(yaml(`test/fixtures/bad/${file}.playbook.yaml`)), file).toBe(false);
    }
  });

  it('the example inventory validates against the inventory schema; bad ones do not', () => {
    const validate = compile('inventory');
    expect(validate(yaml('inventory.example.yaml'))).toBe(true);
    expect(validate(yaml('test/fixtures/good/inventory.yaml'))).toBe(true);
    for (const file of ['inv-group-key-typo', 'inv-port-range', 'inv-connection-enum', 'inv-hosts-list']) {
      expect(validate(yaml(`test/fixtures/bad/${file}.inventory.yaml`)), file).toBe(false);
    }
  });

  it.each(['playbook', 'inventory'] as const)('schemas/%s.schema.json is the current `plumb schema` output (run npm run schemas)', async (kind) => {
    let out = '';
    const code = await run(['schema', kind], { stdout: (t) => (out += t), stderr: () => {}, env: {} });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(jsonSchema(kind));
    expect(JSON.parse(readFileSync(`schemas/${kind}.schema.json`, 'utf8'))).toEqual(JSON.parse(out));
  });

  it('shipped YAML files point editors at the schema', () => {
    expect(readFileSync('playbooks/postfix-gmail-relay.yaml', 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/playbook.schema.json');
    expect(readFileSync('inventory.example.yaml', 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./schemas/inventory.schema.json');
  });
});
