/**
 * Loading an inventory as Ansible does: a file in Ansible's YAML or INI
 * format (told apart by content), an executable inventory script, or a directory whose files are all loaded
 * and merged (sorted by name; hidden files, group_vars/, host_vars/ and
 * Ansible's ignored extensions skipped), then the group_vars/ and host_vars/
 * beside the inventory and, when given, beside the playbook.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import type { Inventory } from './model.js';
import { DiagnosticList } from '../source/diagnostics.js';
import { readYaml, type YamlSource } from '../source/yaml.js';
import { InventoryBuilder, type VarsLayer } from './builder.js';
import { parseIni } from './ini.js';
import { loadVarsLayer } from './vars-files.js';
import { isInventoryScript, loadInventoryScript } from './script.js';
import { isRecord, walkYamlInventory, type Masker } from './yaml-inventory.js';

export interface InventoryOptions {
  /** The playbook's directory: its group_vars/ and host_vars/ apply too (as ansible-inventory --playbook-dir). */
  playbookDir?: string;
}

/** Files Ansible skips in an inventory directory (inventory_ignore_extensions and the always-ignored names). */
const IGNORED_NAMES = [/^\./, /^host_vars$/, /^group_vars$/, /^vars_plugins$/];
export const IGNORED_EXTENSIONS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.ini', '.cfg', '.retry'];

const SECTION_LINE = /^\s*\[[^:\]\s]+(?::\w+)?\]\s*(?:#.*)?$/m;

/** Load an inventory file or directory (or several); problems are added to `diags` (the caller throws). */
export function loadInventory(sources: string | string[], diags: DiagnosticList, options: InventoryOptions = {}): Inventory | undefined {
  const list = Array.isArray(sources) ? sources : [sources];
  const errorsBefore = diags.items.filter((d) => d.severity === 'error').length;
  const b = new InventoryBuilder(diags);
  const mask = masker(diags);
  for (const s of list) loadSource(s, b, diags, mask, true);
  const bases = list.map((s) => (kind(s) === 'dir' ? s : dirname(s)));
  const inventory: VarsLayer[] = bases.map((base) => loadVarsLayer(base, b, diags, mask));
  const playbook: VarsLayer[] = [];
  // The playbook beside the inventory: the same files, read once (applying them twice would change nothing).
  if (options.playbookDir !== undefined && !bases.some((base) => samePath(base, options.playbookDir!))) playbook.push(loadVarsLayer(options.playbookDir, b, diags, mask));
  mask.flush();
  if (diags.items.filter((d) => d.severity === 'error').length > errorsBefore) return undefined;
  return b.build(list, { inventory, playbook });
}

/** An inventory from one parsed YAML document, without group_vars (reads nothing). */
export function resolveInventory(src: YamlSource, diags: DiagnosticList): Inventory | undefined {
  const b = new InventoryBuilder(diags);
  const errorsBefore = diags.items.filter((d) => d.severity === 'error').length;
  const mask = masker(diags);
  walkYamlInventory(src, b, diags, mask);
  mask.flush();
  if (diags.items.filter((d) => d.severity === 'error').length > errorsBefore) return undefined;
  return b.build([src.file], { inventory: [], playbook: [] });
}

function kind(path: string): 'dir' | 'file' | undefined {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

function loadSource(path: string, b: InventoryBuilder, diags: DiagnosticList, mask: Masker, top: boolean): void {
  if (kind(path) !== 'dir') {
    loadFile(path, b, diags, mask, top);
    return;
  }
  let entries: string[];
  try {
    entries = readdirSync(path).sort();
  } catch (err) {
    diags.error({ file: path, line: 1, column: 1 }, `cannot read inventory directory: ${(err as Error).message}`);
    return;
  }
  let loaded = 0;
  for (const entry of entries) {
    if (IGNORED_NAMES.some((re) => re.test(entry))) continue;
    const ext = IGNORED_EXTENSIONS.find((e) => entry.endsWith(e));
    if (ext) {
      if (ext === '.ini' || ext === '.cfg') {
        diags.warning(
          { file: join(path, entry), line: 1, column: 1 },
          `skipped: Ansible ignores ${ext} files inside an inventory directory (inventory_ignore_extensions); rename it without the extension, or pass it with -i`,
        );
      }
      continue;
    }
    loadSource(join(path, entry), b, diags, mask, false);
    loaded++;
  }
  if (top && loaded === 0)
    diags.error(
      { file: path, line: 1, column: 1 },
      'no inventory file in this directory (Ansible skips hidden files and .ini, .cfg, .retry, .orig, .bak, .md, .txt, ~ files here)',
    );
}

/**
 * One file, YAML or INI as Ansible would take it: YAML when it parses to a
 * mapping, INI otherwise. When neither reads, the errors shown are those of
 * the format the file looks like.
 */
function loadFile(file: string, b: InventoryBuilder, diags: DiagnosticList, mask: Masker, top: boolean): void {
  if (isInventoryScript(file)) {
    loadInventoryScript(file, b, diags);
    return;
  }
  const yamlDiags = diags.scratch();
  const src = readYaml(file, yamlDiags, 'inventory');
  const text = yamlDiags.sources.get(file);
  diags.files.push(...yamlDiags.files);
  if (text === undefined) {
    for (const d of yamlDiags.items) diags.add(d); // could not read it at all
    return;
  }
  diags.sources.set(file, text);
  const ext = extname(file).toLowerCase();
  const blank = text.split(/\r?\n/).every((l) => /^\s*([#;].*)?$/.test(l));
  if (blank) {
    if (top) diags.error({ file, line: 1, column: 1 }, 'inventory is empty');
    return;
  }
  if (ext !== '.ini' && src && isRecord(src.value)) {
    for (const d of yamlDiags.items) diags.add(d);
    walkYamlInventory(src, b, diags, mask);
    return;
  }
  const looksYaml = ['.yml', '.yaml', '.json'].includes(ext) || /^\s*(all|[A-Za-z_][\w.-]*):\s*(#.*)?$/m.test(text);
  const looksIni = ext === '.ini' || SECTION_LINE.test(text) || !looksYaml;
  const iniDiags = diags.scratch();
  const scratch = new InventoryBuilder(iniDiags);
  for (const [n, g] of b.groups) scratch.group(n, g.pos);
  parseIni(file, text, scratch, iniDiags, () => {});
  if (!iniDiags.hasErrors || looksIni) {
    parseIni(file, text, b, diags, (line, column, length) => {
      const start = lineOffset(text, line) + column - 1;
      mask(file, start, start + length);
    });
    return;
  }
  for (const d of yamlDiags.items) diags.add(d);
  if (src && !isRecord(src.value)) walkYamlInventory(src, b, diags, mask);
}

function lineOffset(text: string, line: number): number {
  let offset = 0;
  for (let i = 1; i < line; i++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return offset;
}

/**
 * Masks passwords in the source texts kept for excerpts, so no message can
 * quote them. Ranges are collected and applied at the end, last first, so
 * each one's offsets still hold.
 */
function masker(diags: DiagnosticList): Masker & { flush(): void } {
  const ranges = new Map<string, Array<[number, number]>>();
  const mask = (file: string, start: number, end: number) => {
    if (end <= start) return;
    ranges.set(file, [...(ranges.get(file) ?? []), [start, end]]);
  };
  return Object.assign(mask, {
    flush() {
      for (const [file, list] of ranges) {
        let text = diags.sources.get(file);
        if (text === undefined) continue;
        for (const [start, end] of [...list].sort((x, y) => y[0] - x[0])) text = `${text.slice(0, start)}***${text.slice(end)}`;
        diags.sources.set(file, text);
      }
      ranges.clear();
    },
  });
}
