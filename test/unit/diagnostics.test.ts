import { describe, expect, it } from 'vitest';
import { formatDiagnostic, headline, ValidationFailed, type Diagnostic } from '../../src/source/diagnostics.js';
import { firstInvalidUtf8, formatPath } from '../../src/source/yaml.js';
import { closest, didYouMean, editDistance } from '../../src/source/suggest.js';
import { reportError, UsageError } from '../../src/cli/errors.js';
import { Redactor } from '../../src/redactor.js';
import { EXIT, PlumbError } from '../../src/errors.js';
import { PatternError } from '../../src/inventory/patterns.js';
import { TemplateError } from '../../src/template/errors.js';
import { SavedPlanError } from '../../src/engine/saved-plan.js';
import { UnreachableError } from '../../src/transport/types.js';

describe('suggestions', () => {
  it('measures edits, with a swap of neighbours as one edit', () => {
    expect(editDistance('notify', 'notify')).toBe(0);
    expect(editDistance('notfiy', 'notify')).toBe(1);
    expect(editDistance('servce', 'service')).toBe(1);
    expect(editDistance('abc', 'xyz')).toBe(3);
  });
  it('suggests only close names, nearest first', () => {
    expect(closest('notfiy', ['name', 'notify', 'tags'])).toEqual(['notify']);
    expect(didYouMean('childern', ['hosts', 'vars', 'children'])).toBe(' (did you mean "children"?)');
    expect(didYouMean('zzz', ['hosts', 'vars', 'children'])).toBe('');
  });
});

describe('diagnostics', () => {
  const d: Diagnostic = { severity: 'error', file: 'site.yaml', line: 2, column: 11, length: 3, path: 'plays[0].tasks[0].copy.mode', message: 'bad mode' };
  const sources = new Map([['site.yaml', 'line one\n    mode: 600\n']]);
  it('formats file:line:col, the path, the source line and a caret under the problem', () => {
    expect(headline(d)).toBe('site.yaml:2:11: error: plays[0].tasks[0].copy.mode: bad mode');
    expect(formatDiagnostic(d, sources)).toBe('site.yaml:2:11: error: plays[0].tasks[0].copy.mode: bad mode\n 2 |     mode: 600\n   |           ^^^');
  });
  it('redacts the whole message, excerpt included', () => {
    const r = new Redactor();
    // A secret is at least 4 characters (shorter ones are refused), so the excerpt's " 600" stands in.
    r.add(' 600');
    expect(formatDiagnostic(d, sources, r)).not.toContain(' 600');
  });
  it('ValidationFailed carries every error and a redacted message', () => {
    const r = new Redactor();
    r.add('hunter2');
    const err = new ValidationFailed(
      [
        { ...d, message: 'found hunter2' },
        { ...d, severity: 'warning', message: 'w' },
      ],
      sources,
      r,
    );
    expect(err.errors).toHaveLength(1);
    expect(err.warnings).toHaveLength(1);
    expect(err.message).toBe('site.yaml:2:11: error: plays[0].tasks[0].copy.mode: found ***');
  });
  it('writes key paths the way users read them', () => {
    expect(formatPath(['plays', 0, 'tasks', 2, 'copy', 'mode'])).toBe('plays[0].tasks[2].copy.mode');
    expect(formatPath(['plays', 0, 'tasks', 1, 'ansible.builtin.copy'])).toBe('plays[0].tasks[1]["ansible.builtin.copy"]');
  });
});

describe('UTF-8 check', () => {
  it.each([
    [Buffer.from('plain ascii'), -1],
    [Buffer.from('ünïcødé ✓ 日本 🐟'), -1],
    [Buffer.from([0x61, 0xe9, 0x62]), 1], // latin-1 é
    [Buffer.from([0xc0, 0x80]), 0], // overlong NUL
    [Buffer.from([0xed, 0xa0, 0x80]), 0], // UTF-16 surrogate
    [Buffer.from([0x61, 0xe2, 0x82]), 1], // truncated sequence
    [Buffer.from([0xf5, 0x80, 0x80, 0x80]), 0], // beyond U+10FFFF
  ])('%j → %d', (bytes, expected) => {
    expect(firstInvalidUtf8(bytes)).toBe(expected);
  });
});

describe('error → exit code and message', () => {
  it('an unexpected error shows its stack only with --verbose', () => {
    const boom = new Error('boom');
    const quiet = reportError(boom);
    expect(quiet.code).toBe(1);
    expect(quiet.text).toBe('plumb: unexpected error: boom\n(run with --verbose for details)');
    const verbose = reportError(boom, { verbose: true });
    expect(verbose.text).toMatch(/boom\n\s+at /);
  });
  it('usage errors point at the command help', () => {
    expect(reportError(new UsageError('missing PLAYBOOK', 'validate')).text).toBe('plumb: missing PLAYBOOK\nrun "plumb validate --help" for usage');
  });
  it('an expected failure ends with its own exit code and one line, whatever its class', () => {
    const unreachable = reportError(new UnreachableError('web1: connection refused', 'web1'));
    expect(unreachable).toEqual({ code: EXIT.unreachable, text: 'plumb: web1: connection refused' });
    for (const err of [new PatternError('"wbe1" is neither a host nor a group'), new TemplateError('unknown filter "uper"'), new SavedPlanError('the plan has no hosts')]) {
      expect(err).toBeInstanceOf(PlumbError);
      expect(reportError(err)).toEqual({ code: EXIT.error, text: `plumb: ${err.message}` });
    }
  });
  it('a validation failure prints every diagnostic with its count, hiding the secrets loading knew', () => {
    const r = new Redactor();
    r.add('hunter2');
    const d: Diagnostic = { severity: 'error', file: 'a.yaml', line: 1, column: 1, message: 'bad value hunter2' };
    const report = reportError(new ValidationFailed([d], new Map(), r));
    expect(report.code).toBe(EXIT.error);
    expect(report.text).toBe('a.yaml:1:1: error: bad value ***\n\nvalidation failed: 1 error in 1 file');
  });
  it('redacts every kind of error text', () => {
    const r = new Redactor();
    r.add('hunter2');
    expect(reportError(new Error('x hunter2'), { redactor: r, verbose: true }).text).not.toContain('hunter2');
  });
});
