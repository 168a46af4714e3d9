/**
 * Batches the probe snippets of many tasks into one /bin/sh script, so a host
 * is probed in one round trip, and splits the script's output back per task.
 * Each snippet runs in its own subshell with stdin closed; its stdout, stderr
 * and exit code are framed by markers carrying a random nonce, so no output
 * can forge a frame.
 */
import { randomBytes } from 'node:crypto';
import type { ProbeOutput } from '../modules/types.js';

export interface ProbeScript {
  script: string;
  nonce: string;
  count: number;
}

export function buildProbeScript(snippets: string[]): ProbeScript {
  const nonce = randomBytes(8).toString('hex');
  const lines = [
    // One scratch file for every snippet's stderr; removed however the script ends.
    `__plumb_err=$(mktemp 2>/dev/null || echo /tmp/plumb-probe-$$)`,
    `trap 'rm -f "$__plumb_err"' EXIT`,
  ];
  snippets.forEach((snippet, i) => {
    lines.push(
      `printf '@@%s:%d:out@@\\n' ${nonce} ${i}`,
      `(\n${snippet}\n) 2>"$__plumb_err" </dev/null`,
      `__plumb_code=$?`,
      `printf '\\n@@%s:%d:err@@\\n' ${nonce} ${i}`,
      // Most snippets write nothing to stderr: skip the cat process then.
      `[ -s "$__plumb_err" ] && cat "$__plumb_err"`,
      `printf '\\n@@%s:%d:end:%d@@\\n' ${nonce} ${i} "$__plumb_code"`,
    );
  });
  return { script: lines.join('\n') + '\n', nonce, count: snippets.length };
}

export class ProbeOutputError extends Error {}

/** Split the script's stdout back into one ProbeOutput per snippet. */
export function splitProbeOutput(probe: ProbeScript, stdout: string): ProbeOutput[] {
  const results: ProbeOutput[] = [];
  let cursor = 0;
  for (let i = 0; i < probe.count; i++) {
    const open = `@@${probe.nonce}:${i}:out@@\n`;
    const errMark = `\n@@${probe.nonce}:${i}:err@@\n`;
    const endPrefix = `\n@@${probe.nonce}:${i}:end:`;
    const start = stdout.indexOf(open, cursor);
    const err = start < 0 ? -1 : stdout.indexOf(errMark, start + open.length);
    const end = err < 0 ? -1 : stdout.indexOf(endPrefix, err + errMark.length);
    if (start < 0 || err < 0 || end < 0) {
      throw new ProbeOutputError(`probe output ended early at check ${i + 1} of ${probe.count}`);
    }
    const close = stdout.indexOf('@@\n', end + endPrefix.length);
    const code = Number(stdout.slice(end + endPrefix.length, close));
    results.push({
      stdout: stdout.slice(start + open.length, err),
      stderr: stdout.slice(err + errMark.length, end),
      code: Number.isFinite(code) ? code : -1,
    });
    cursor = close + 3;
  }
  return results;
}
