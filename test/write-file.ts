import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** Write `data` (text as is, anything else as YAML) to `dir/name`; returns the path. */
export function writeIn(dir: string, name: string, data: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof data === 'string' ? data : stringify(data));
  return path;
}
