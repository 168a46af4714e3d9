/**
 * What `npm run build` ships and bin/plumb.js runs: one CommonJS bundle and V8's code cache for
 * it (bin/code-cache.js). A cache this node rejects would not break plumb, only slow it (~60 ms
 * a run), so these cases check the cache is accepted, that a bad one is ignored, and that the
 * bundle answers exactly as the sources do. In CI (CI=true) the build ran in `npm ci`, so a
 * missing bundle fails; elsewhere the bundle cases skip until `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { runBinary } from '../in-process.js';
import { makeKey, startSshd } from '../transport/sshd.js';
// @ts-expect-error -- plain JavaScript beside bin/plumb.js, no declarations
import { compileCached, loadCached } from '../../bin/code-cache.js';

const bundle = join(process.cwd(), 'dist', 'bundle', 'plumb.cjs');
const built = existsSync(bundle);
const dir = mkdtempSync(join(tmpdir(), 'plumb-bundle-'));

describe('the code cache loader', () => {
  it('runs a CommonJS file with a cache V8 rejects, and says it did not use it', () => {
    const file = join(dir, 'answer.cjs');
    writeFileSync(file, "module.exports = { answer: require('node:path').basename(__filename) + ':' + (6 * 7) };");
    writeFileSync(`${file}.cache`, 'not a V8 code cache');
    expect(compileCached(file).usedCache).toBe(false);
    expect(loadCached(file)).toEqual({ answer: 'answer.cjs:42' });
  });

  it('writes a cache at exit that the next compile uses', () => {
    const file = join(dir, 'square.cjs');
    writeFileSync(file, 'module.exports = (n) => n * n;');
    const loader = JSON.stringify(join(process.cwd(), 'bin', 'code-cache.js'));
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { loadCached } from ${loader}; console.log(loadCached(${JSON.stringify(file)}, { writeCache: true })(9));`],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stdout.trim(), r.stderr).toBe('81');
    expect(existsSync(`${file}.cache`)).toBe(true);
    expect(compileCached(file).usedCache).toBe(true);
  });
});

describe.skipIf(!built && process.env.CI !== 'true')('the built bundle (skipped until `npm run build`)', () => {
  it('exists in CI, where npm ci builds it', () => {
    expect(built, `${bundle} is missing: npm ci runs npm run build (prepare)`).toBe(true);
  });

  it("has a code cache this node accepts, made for this bundle, not another file's", () => {
    expect(compileCached(bundle).usedCache).toBe(true);
    // The same cache for a copy with one byte more is rejected: V8 checks it belongs to the source.
    const other = join(dir, 'other.cjs');
    writeFileSync(other, `${readFileSync(bundle, 'utf8')} `);
    copyFileSync(`${bundle}.cache`, `${other}.cache`);
    expect(compileCached(other).usedCache).toBe(false);
  });

  it('answers as the sources do: validate, --version, --help, a usage error', () => {
    for (const args of [['validate', 'playbooks/postfix-gmail-relay.yaml', '-i', 'inventory.example.yaml'], ['--version'], ['--help'], ['plna']]) {
      const fromBundle = runBinary(args, {});
      const fromSource = runBinary(args, { PLUMB_FROM_SOURCE: '1' });
      expect(fromBundle, args.join(' ')).toEqual(fromSource);
    }
    expect(runBinary(['--version'], {}).stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('plans an ssh host with the bundled ssh2, whose native crypto binding it requires from node_modules', async () => {
    const addon = /require\("(ssh2\/[^"]+\.node)"\)/.exec(readFileSync(bundle, 'utf8'))?.[1];
    expect(addon).toBeDefined();
    expect(() => createRequire(bundle).resolve(addon as string)).not.toThrow();

    const sshd = await startSshd();
    try {
      const key = makeKey(dir, 'id_bundle');
      sshd.authorize(userInfo().username, [key.pub]);
      const knownHosts = join(dir, 'known_hosts');
      writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
      const inventory = join(dir, 'ssh-inventory.yaml');
      writeFileSync(inventory, YAML.stringify({ all: { hosts: { viassh: { host: '127.0.0.1', port: sshd.port, user: userInfo().username, identity_file: key.path } } } }));
      const playbook = join(dir, 'ssh-play.yaml');
      writeFileSync(playbook, YAML.stringify([{ name: 'p', hosts: 'all', tasks: [{ name: 'a directory', file: { path: join(dir, 'made-over-ssh'), state: 'directory' } }] }]));
      const args = ['plan', playbook, '-i', inventory, '--known-hosts', knownHosts, '--ssh-config', '/dev/null'];
      const env = { NO_COLOR: '1', CI: 'true' };
      const fromBundle = runBinary(args, env);
      expect(fromBundle.code, fromBundle.stderr).toBe(2); // the directory is to be made
      expect(fromBundle.stdout).toMatch(/viassh/);
      const fromSource = runBinary(args, { ...env, PLUMB_FROM_SOURCE: '1' });
      const untimed = (r: typeof fromSource) => ({ ...r, stderr: r.stderr.replace(/\d+\.\d\d( s)?\b/g, 'S') });
      expect(untimed(fromBundle)).toEqual(untimed(fromSource));
    } finally {
      await sshd.stop();
    }
  });
});
