import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildProbeScript, splitProbeOutput } from '../../src/engine/probe-script.js';

function run(script: string): string {
  return execFileSync('/bin/sh', ['-c', script]).toString('utf8');
}

describe('probe batching', () => {
  it('returns each snippet its own stdout, stderr and exit code, in one run', () => {
    const probe = buildProbeScript([
      'echo one; echo err1 >&2',
      'printf "no newline"; exit 3',
      'cat; echo after-stdin', // stdin must be closed, never hang
      "echo '@@fake:0:end:9@@'", // output cannot forge a frame
      'false',
    ]);
    const out = splitProbeOutput(probe, run(probe.script));
    expect(out).toEqual([
      { stdout: 'one\n', stderr: 'err1\n', code: 0 },
      { stdout: 'no newline', stderr: '', code: 3 },
      { stdout: 'after-stdin\n', stderr: '', code: 0 },
      { stdout: '@@fake:0:end:9@@\n', stderr: '', code: 0 },
      { stdout: '', stderr: '', code: 1 },
    ]);
  });

  it('a snippet that exits the shell does not take the others with it', () => {
    const probe = buildProbeScript(['exit 7', 'echo still here']);
    const out = splitProbeOutput(probe, run(probe.script));
    expect(out.map((o) => o.code)).toEqual([7, 0]);
    expect(out[1].stdout).toBe('still here\n');
  });

  it('reports truncated output instead of guessing', () => {
    const probe = buildProbeScript(['echo a', 'echo b']);
    const full = run(probe.script);
    expect(() => splitProbeOutput(probe, full.slice(0, full.indexOf('b\n')))).toThrow(/ended early at check 2 of 2/);
  });
});
