import { describe, expect, it } from 'vitest';
import type { Node } from 'yaml';
import { DiagnosticList } from '../../src/source/diagnostics.js';
import { keyPos, locate, parseYaml, valuePos } from '../../src/source/yaml.js';

/** A mapping large enough to be searched through its index, with a duplicate and a nested host. */
function bigInventory(hosts: number): string {
  const lines = ['all:', '  hosts:'];
  for (let i = 1; i <= hosts; i++) lines.push(`    h${i}:`, `      port: ${2200 + i}`);
  lines.push('    h7:', '      port: 9999');
  lines.push('    "42":', '      port: 42');
  return lines.join('\n') + '\n';
}

describe('locate in large mappings (issue 16: indexed, same answers as a scan)', () => {
  const diags = new DiagnosticList();
  const src = parseYaml('inv.yaml', bigInventory(200), diags, 'inventory')!;
  const root = src.doc.contents as Node;

  it('finds each host where it is written', () => {
    expect(keyPos(src, root, ['all', 'hosts', 'h1'])).toMatchObject({ line: 3, column: 5 });
    expect(keyPos(src, root, ['all', 'hosts', 'h150'])).toMatchObject({ line: 2 + 2 * 150 - 1, column: 5 });
    expect(valuePos(src, root, ['all', 'hosts', 'h150', 'port'])).toMatchObject({ line: 2 + 2 * 150, column: 13 });
  });

  it('answers the first of duplicate keys, as the scan did', () => {
    expect(valuePos(src, root, ['all', 'hosts', 'h7', 'port'])).toMatchObject({ line: 2 + 2 * 7, column: 13 });
  });

  it('matches a number part against a quoted key', () => {
    const at = locate(root, ['all', 'hosts', 42, 'port']);
    expect(at.exact).toBe(true);
    expect(String((at.node as unknown as { value: unknown }).value)).toBe('42');
  });

  it('stops at the nearest parent for a missing host', () => {
    const at = locate(root, ['all', 'hosts', 'nope', 'port']);
    expect(at.exact).toBe(false);
    expect(valuePos(src, root, ['all', 'hosts', 'nope'])).toEqual(valuePos(src, root, ['all', 'hosts']));
  });
});
