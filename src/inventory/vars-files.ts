/**
 * group_vars/ and host_vars/ beside an inventory or a playbook, found as
 * Ansible's host_group_vars plugin finds them: for a group or host NAME, the
 * first of NAME, NAME.yml, NAME.yaml, NAME.json that exists; a directory is
 * read whole (recursively, sorted, skipping hidden files and backups~, only
 * files without extension or with .yml/.yaml/.json). Files are YAML (JSON is
 * YAML); an empty file sets nothing. A file that matches no group or host is
 * not read, and plumb says so.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Node } from 'yaml';
import { DiagnosticList } from '../source/diagnostics.js';
import { didYouMean } from '../source/suggest.js';
import { readYaml } from '../source/yaml.js';
import type { InventoryBuilder, VarsLayer } from './builder.js';
import { checkVarsMapping, isRecord, maskYamlValue, type Masker } from './yaml-inventory.js';

const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

/** Whether a path is a directory, something else, or missing (statSync follows links, as Ansible does). */
export function pathKind(path: string): 'dir' | 'file' | undefined {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** The variables of every group and host from `base`/group_vars and `base`/host_vars. */
export function loadVarsLayer(base: string, b: InventoryBuilder, diags: DiagnosticList, mask: Masker): VarsLayer {
  const layer: VarsLayer = { groups: new Map(), hosts: new Map() };
  for (const [sub, names, target] of [
    ['group_vars', [...b.groups.keys()], layer.groups],
    ['host_vars', [...b.hosts.keys()], layer.hosts],
  ] as const) {
    const dir = join(base, sub);
    const k = pathKind(dir);
    if (k === undefined) continue;
    if (k === 'file') {
      diags.warning({ file: dir, line: 1, column: 1 }, `${sub} is a file, not a directory: Ansible and plumb skip it`);
      continue;
    }
    const wanted = new Set(names);
    const used = new Set<string>();
    for (const name of names) {
      for (const ext of EXTENSIONS) {
        const path = join(dir, name + ext);
        const pk = pathKind(path);
        if (pk === undefined) continue;
        used.add(name + ext);
        const files = pk === 'dir' ? dirFiles(path) : [path];
        for (const f of files) {
          const vars = readVarsFile(f, diags, mask);
          if (vars) target.set(name, { ...target.get(name), ...vars });
        }
        for (const later of EXTENSIONS.slice(EXTENSIONS.indexOf(ext) + 1)) {
          if (pathKind(join(dir, name + later)) !== undefined) {
            diags.warning(
              { file: join(dir, name + later), line: 1, column: 1 },
              `not read: ${relative('.', path) || path} exists and Ansible reads only the first of ${name}, ${name}.yml, ${name}.yaml, ${name}.json; merge the two`,
            );
          }
        }
        break;
      }
    }
    for (const entry of listDir(dir)) {
      if (used.has(entry) || entry.startsWith('.') || entry.endsWith('~')) continue;
      const stem = entry.replace(/\.(yml|yaml|json)$/, '');
      if (wanted.has(stem)) continue; // a later spelling, warned about above
      const what = sub === 'group_vars' ? 'group' : 'host';
      diags.warning(
        { file: join(dir, entry), line: 1, column: 1 },
        `not read: no ${what} is named "${stem}"${didYouMean(stem, names)} (Ansible reads ${sub}/NAME, NAME.yml, NAME.yaml or NAME.json for each ${what})`,
      );
    }
  }
  return layer;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Every vars file under a group's or host's directory, in Ansible's order. */
function dirFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of listDir(dir)) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const path = join(dir, entry);
    const ext = /\.[^.]*$/.exec(entry)?.[0] ?? '';
    const k = pathKind(path);
    if (k === 'dir' && !ext) out.push(...dirFiles(path));
    else if (k === 'file' && EXTENSIONS.includes(ext)) out.push(path);
  }
  return out;
}

/** One vars file as a mapping; an empty file is no variables (as in Ansible). */
function readVarsFile(file: string, diags: DiagnosticList, mask: Masker): Record<string, unknown> | undefined {
  const local = diags.scratch();
  const src = readYaml(file, local, 'vars file');
  const text = local.sources.get(file);
  for (const [f, t] of local.sources) diags.sources.set(f, t);
  diags.files.push(...local.files);
  const empty = text !== undefined && text.split(/\r?\n/).every((l) => /^\s*(#.*)?$/.test(l) || /^\s*---\s*$/.test(l));
  if (empty) return undefined;
  for (const d of local.items) diags.add(d);
  if (!src) return undefined;
  const root = src.doc.contents as Node;
  if (!isRecord(src.value)) {
    checkVarsMapping(src, root, src.value, [], diags, () => {});
    return undefined;
  }
  const ok = checkVarsMapping(src, root, src.value, [], diags, (path) => maskYamlValue(mask, src, root, path));
  return ok ? (src.value as Record<string, unknown>) : undefined;
}
