import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_TREE_LIMIT, localTree } from '../../src/local-tree.js';

describe('localTree (copy with a directory src)', () => {
  const made: string[] = [];
  const scratch = () => {
    const d = mkdtempSync(join(tmpdir(), 'plumb-tree-'));
    made.push(d);
    return d;
  };
  afterEach(() => made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('lists directories before what they hold; a file is not a tree', () => {
    const d = scratch();
    mkdirSync(join(d, 'site/css'), { recursive: true });
    writeFileSync(join(d, 'site/index.html'), 'x');
    writeFileSync(join(d, 'site/css/main.css'), 'y');
    expect(localTree(join(d, 'site'))).toEqual({ directories: ['css'], files: ['css/main.css', 'index.html'] });
    expect(localTree(join(d, 'site/index.html'))).toBeUndefined();
    expect(localTree(join(d, 'missing'))).toBeUndefined();
  });

  it('follows symlinks to files and directories, as local_follow: true does', () => {
    const d = scratch();
    mkdirSync(join(d, 'site'));
    mkdirSync(join(d, 'shared'));
    writeFileSync(join(d, 'shared/a.txt'), 'a');
    symlinkSync(join(d, 'shared'), join(d, 'site/linked'));
    symlinkSync(join(d, 'shared/a.txt'), join(d, 'site/b.txt'));
    expect(localTree(join(d, 'site'))).toEqual({ directories: ['linked'], files: ['b.txt', 'linked/a.txt'] });
  });

  it('refuses a link loop, a dangling link and a tree over the limit, naming the path', () => {
    const d = scratch();
    mkdirSync(join(d, 'site/sub'), { recursive: true });
    symlinkSync('..', join(d, 'site/sub/up'));
    expect(() => localTree(join(d, 'site'))).toThrow('sub/up is a symlink to a directory that contains it');
    const e = scratch();
    symlinkSync(join(e, 'nowhere'), join(e, 'gone'));
    expect(() => localTree(e)).toThrow('gone is a dangling symlink');
    const f = scratch();
    for (let i = 0; i <= LOCAL_TREE_LIMIT; i++) writeFileSync(join(f, `f${i}`), '');
    expect(() => localTree(f)).toThrow(`more than ${LOCAL_TREE_LIMIT} files and directories`);
  });
});
