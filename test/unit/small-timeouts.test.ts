/**
 * Issue 10, class 8: a timeout longer than Node's timers can hold (2^31-1 ms,
 * about 24.8 days) used to fire after 1 ms. Every place a duration enters
 * plumb refuses such values, and NaN, infinities, negatives and sub-millisecond
 * values, with a message naming the option and the limit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/errors.js';
import { commonOptions, parseCommand } from '../../src/cli/options.js';
import { LocalTransport } from '../../src/transport/local.js';
import { resolveEndpoint } from '../../src/transport/ssh-config.js';

const parse = (...argv: string[]) => parseCommand('plan', [...argv, 'site.yaml'], commonOptions).options;
const refusal = (...argv: string[]): Error => {
  try {
    parse(...argv);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
};

describe('--connect-timeout and --task-timeout', () => {
  it.each([
    ['--connect-timeout', '2147484'],
    ['--connect-timeout', '3000000000'],
    ['--task-timeout', '1e10'],
    ['--task-timeout', '2147483.9'],
  ])('%s %s (beyond 2^31-1 ms) is refused, naming the limit', (flag, value) => {
    const err = refusal(flag, value);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(flag);
    expect(err.message).toMatch(/at most 2147483 seconds/);
    expect(err.message).toMatch(/24\.8 days/);
  });

  it.each(['NaN', 'Infinity', '-Infinity', '1e400', '-1', '0', '-0', '', 'ten', '0x10', '0.0001', '1e-9'])('--task-timeout %j is refused', (value) => {
    const err = refusal('--task-timeout', value);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('--task-timeout');
  });

  it('accepts the boundaries: 1 ms and 2147483 s', () => {
    expect(parse('--task-timeout', '0.001').taskTimeoutS).toBe(0.001);
    expect(parse('--connect-timeout', '2147483').connectTimeoutS).toBe(2147483);
    expect(parse('--task-timeout', '90', '--connect-timeout', '2.5').connectTimeoutS).toBe(2.5);
  });
});

describe('ConnectTimeout in ssh config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plumb-timeouts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const endpoint = (value: string) => {
    const file = join(dir, `config${n++}`);
    writeFileSync(file, `Host web\n  ConnectTimeout ${value}\n`);
    return () => resolveEndpoint('web', {}, file);
  };

  it.each(['9999999', '2147484', '100000h', '-5', 'abc', '1x'])('ConnectTimeout %s is an error naming the file', (value) => {
    const resolve = endpoint(value);
    expect(resolve).toThrow(/ConnectTimeout/);
    expect(resolve).toThrow(/config\d+/);
  });

  it('reads OpenSSH time formats (30, 1m, 1h30m) as OpenSSH does', () => {
    expect(endpoint('30')().connectTimeoutMs).toBe(30_000);
    expect(endpoint('1m')().connectTimeoutMs).toBe(60_000);
    expect(endpoint('1h30m')().connectTimeoutMs).toBe(5_400_000);
    expect(endpoint('0')().connectTimeoutMs).toBeUndefined();
  });
});

describe('the timer itself', () => {
  it('a command timeout beyond the limit is refused before running, not fired at once', async () => {
    const t = new LocalTransport('local', 0, async () => undefined);
    const err = await t.exec('echo ran', { timeoutMs: 2 ** 31 }).then(
      (r) => new Error(`ran: ${JSON.stringify(r)}`),
      (e: Error) => e,
    );
    expect(err.message).toMatch(/2147483 seconds/);
    expect(err.message).not.toMatch(/timed out/);
    // A valid long timeout still runs the command normally.
    expect((await t.exec('echo ran', { timeoutMs: 2 ** 31 - 1 })).stdout).toBe('ran\n');
    await t.close();
  });
});
