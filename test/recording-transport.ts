/**
 * A local transport (the control machine as host "here") that keeps every probe script it runs,
 * for tests that count round trips or read what was asked. `rewrite` may change a probe before it
 * runs (fault injection: e.g. give each probe round its own number in the environment).
 */
import { LocalTransport } from '../src/transport/local.js';
import type { ExecOptions, Transport, WriteFileOptions } from '../src/transport/types.js';

export class RecordingTransport implements Transport {
  readonly scripts: string[] = [];
  readonly host = 'here';
  private readonly inner = new LocalTransport('here', 30_000, async () => undefined);

  constructor(private readonly rewrite: (script: string, round: number) => string = (script) => script) {}

  exec(command: string, options?: ExecOptions) {
    if (options?.label !== 'probes') return this.inner.exec(command, options);
    this.scripts.push(command);
    return this.inner.exec(this.rewrite(command, this.scripts.length), options);
  }

  writeFile(path: string, content: Buffer | string, options?: WriteFileOptions) {
    return this.inner.writeFile(path, content, options);
  }

  close() {
    return this.inner.close();
  }
}
