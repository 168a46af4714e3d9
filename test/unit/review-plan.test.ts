import { describe, expect, it } from 'vitest';
import { Fingerprinter } from '../../src/engine/fingerprint.js';
import type { PlanDocument } from '../../src/engine/plan-schema.js';
import { planMarkdown } from '../../src/report/plan-markdown.js';

function doc(hosts: PlanDocument['hosts']): PlanDocument {
  return {
    format: 'plumb-plan',
    version: 2,
    created_at: '2026-11-25T00:00:00.000Z',
    command: { playbook: 'site.yaml', inventory: 'inventory.yaml', extra_vars: {} },
    files: [],
    summary: {
      hosts: hosts.length,
      with_changes: hosts.filter((h) => h.status === 'changes').length,
      changes: 0,
      unchanged: hosts.filter((h) => h.status === 'unchanged').length,
      unreachable: 0,
      failed: 0,
    },
    hosts,
  };
}

function host(name: string, change?: string): PlanDocument['hosts'][number] {
  return {
    name,
    play: 'web',
    play_index: 0,
    status: change ? 'changes' : 'unchanged',
    pending_handlers: [],
    handlers: [],
    tasks: [{ index: 0, name: 'config', module: 'postconf', outcome: change ? 'change' : 'ok', changes: change ? [{ summary: change, target: 'main.cf' }] : [] }],
  };
}

describe('markdown plans', () => {
  it('groups 200 hosts with the same change into one short section and counts unchanged hosts', () => {
    const hosts = [
      ...Array.from({ length: 200 }, (_, i) => host(`web${i + 1}`, 'set inet_protocols: all → ipv4')),
      host('odd1', 'set relayhost: (empty) → [smtp.gmail.com]:587'),
      ...Array.from({ length: 50 }, (_, i) => host(`idle${i + 1}`)),
    ];
    const md = planMarkdown(doc(hosts));
    expect(md).toMatch(/^#### web1, web2, web3, … web200 \(200 hosts\)$/m);
    expect(md).toMatch(/^#### odd1 \(1 host\)$/m);
    expect(md).toMatch(/^50 hosts unchanged\.$/m);
    expect(md).not.toMatch(/idle7/);
    expect(md.split('\n').length).toBeLessThan(30);
  });

  it('fences diffs with a fence longer than any backticks inside', () => {
    const h = host('web1', 'content changed');
    h.tasks[0].changes[0].diff = '--- a\n+++ b\n@@ -1 +1 @@\n-```\n+````\n';
    const md = planMarkdown(doc([h]));
    expect(md).toContain('`````diff');
  });
});

describe('plan fingerprints', () => {
  // Cheap scrypt parameters: these tests are about what keys what (plan-guess.test.ts holds the real ones to the floor).
  const key = { N: 1024, r: 8, p: 1, salt: Buffer.alloc(16, 7) };
  const state = { known: true as const, state: { values: { relayhost: '[smtp.gmail.com]:587' } } };

  it('are stable, and change when the state or a secret used by the task changes', () => {
    const a = new Fingerprinter(['hunter2-app-password'], key);
    const b = new Fingerprinter(['hunter2-app-password'], key);
    const args = { content: 'acct:hunter2-app-password\n' };
    expect(a.desired(args)).toBe(b.desired(args));
    expect(a.probed(state, args)).toBe(b.probed(state, args));
    const other = new Fingerprinter(['another-password'], key);
    expect(other.desired({ content: 'acct:another-password\n' })).not.toBe(a.desired(args));
    expect(a.probed({ known: true, state: { values: { relayhost: 'x' } } }, args)).not.toBe(a.probed(state, args));
  });

  it('of a task that uses no secret do not depend on the secrets', () => {
    const args = { relayhost: '[smtp.gmail.com]:587' };
    expect(new Fingerprinter(['one-secret'], key).desired(args)).toBe(new Fingerprinter(['other-secret'], key).desired(args));
  });

  it('cannot be recomputed without the secret: not a plain hash of the secret content', async () => {
    const { createHash } = await import('node:crypto');
    const args = { content: 'acct:hunter2-app-password\n' };
    const fp = new Fingerprinter(['hunter2-app-password'], key).desired(args);
    const plain = createHash('sha256').update(JSON.stringify(args)).digest('hex');
    expect(fp).not.toContain(plain.slice(0, 32));
    expect(new Fingerprinter([], key).desired(args)).not.toBe(fp);
    expect(fp).not.toContain('hunter2');
  });

  it('key a secret-derived state (a file hash) with every secret', () => {
    const marked = { known: true as const, state: { sha256: 'abc', secretFields: ['sha256'] } };
    const args = { dest: '/etc/x' };
    expect(new Fingerprinter(['s1'], key).probed(marked, args)).not.toBe(new Fingerprinter(['s2'], key).probed(marked, args));
  });
});
