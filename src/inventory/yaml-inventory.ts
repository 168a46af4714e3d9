/**
 * Ansible's YAML inventory: `all: {hosts, vars, children}` with nested groups,
 * walked into an InventoryBuilder with the position of every name and value.
 */
import { isMap, type Node } from 'yaml';
import type { DiagnosticList } from '../source/diagnostics.js';
import { formatPath, keyPos, locate, valuePos, type PathPart, type YamlSource } from '../source/yaml.js';
import { didYouMean } from '../source/suggest.js';
import { describeValue } from '../source/issues.js';
import { NAME, type GroupInfo, type InventoryBuilder } from './builder.js';
import { checkVariable } from './connection.js';
import { groupKeywordNames } from './schema.js';

/** Hides a password's characters [start, end) in the source kept for error excerpts. */
export type Masker = (file: string, start: number, end: number) => void;

export function maskYamlValue(mask: Masker, src: YamlSource, root: Node, path: PathPart[]): void {
  const at = locate(root, path);
  if (at.exact && at.node?.range && at.node !== at.key) mask(src.file, at.node.range[0], at.node.range[1]);
}

/** The groups and hosts of one YAML file, gathered while walking the document. */
interface Walk {
  src: YamlSource;
  root: Node;
  diags: DiagnosticList;
  b: InventoryBuilder;
  mask: Masker;
}

/** Walk one parsed YAML inventory into `b`; false when it is not a mapping of groups. */
export function walkYamlInventory(src: YamlSource, b: InventoryBuilder, diags: DiagnosticList, mask: Masker): boolean {
  const root = src.doc.contents as Node;
  const value = src.value;
  if (!isRecord(value) || !isMap(root)) {
    diags.error(valuePos(src, root, []), `expected a mapping of groups such as \`all: {hosts: ..., children: ...}\`, found ${describeValue(value)}`);
    return false;
  }
  const w: Walk = { src, root, diags, b, mask };
  for (const [top, node] of Object.entries(value)) {
    // A top-level group hangs under `all` only when nothing else is its parent (InventoryBuilder.build), as in Ansible.
    walkGroup(w, group(w, top, [top]), node, [top]);
  }
  return true;
}

function group(w: Walk, name: string, path: PathPart[]): GroupInfo {
  return w.b.group(name, keyPos(w.src, w.root, path), formatPath(path));
}

function walkGroup(w: Walk, g: GroupInfo, node: unknown, path: PathPart[]): void {
  const { src, root, diags } = w;
  if (node === null || node === undefined) return;
  if (!isRecord(node)) {
    diags.error(valuePos(src, root, path), `expected a group (a mapping with hosts, vars or children), found ${describeValue(node)}`, formatPath(path));
    return;
  }
  for (const key of Object.keys(node)) {
    if (!(groupKeywordNames as readonly string[]).includes(key)) {
      const hint = didYouMean(key, groupKeywordNames);
      diags.error(keyPos(src, root, [...path, key]), `unknown key "${key}" in group "${g.name}"${hint || '; a group has hosts, vars and children'}`, formatPath([...path, key]));
    }
  }
  if (node.vars !== undefined && node.vars !== null) {
    if (checkVars(w, node.vars, [...path, 'vars'])) Object.assign(g.vars, node.vars);
  }
  if (node.hosts !== undefined && node.hosts !== null) walkHosts(w, g, node.hosts, [...path, 'hosts']);
  if (node.children !== undefined && node.children !== null) walkChildren(w, g, node.children, [...path, 'children']);
}

function walkHosts(w: Walk, g: GroupInfo, hostsNode: unknown, path: PathPart[]): void {
  const { src, root, diags } = w;
  if (!isRecord(hostsNode)) {
    const hint = Array.isArray(hostsNode) ? ' (write each host as a key: `hosts: {mx1: , mx2: }` or one per line ending in `:`)' : '';
    diags.error(valuePos(src, root, path), `expected a mapping of host names to their variables, found ${describeValue(hostsNode)}${hint}`, formatPath(path));
    return;
  }
  for (const [hostName, hostVars] of Object.entries(hostsNode)) {
    const hp = [...path, hostName];
    if (!NAME.test(hostName)) diags.error(keyPos(src, root, hp), `invalid host name "${hostName}"`, formatPath(hp));
    const h = w.b.host(hostName, keyPos(src, root, hp), formatPath(hp));
    w.b.addHost(g, h);
    if (hostVars !== null && hostVars !== undefined && checkVars(w, hostVars, hp)) Object.assign(h.vars, hostVars);
  }
}

function walkChildren(w: Walk, g: GroupInfo, childrenNode: unknown, path: PathPart[]): void {
  const { src, root, diags } = w;
  if (!isRecord(childrenNode)) {
    diags.error(valuePos(src, root, path), `expected a mapping of child group names, found ${describeValue(childrenNode)}`, formatPath(path));
    return;
  }
  for (const [child, childNode] of Object.entries(childrenNode)) {
    const cp = [...path, child];
    if (child === 'all') {
      diags.error(keyPos(src, root, cp), '"all" contains every group; it cannot be a child', formatPath(cp));
      continue;
    }
    if (!NAME.test(child)) diags.error(keyPos(src, root, cp), `invalid group name "${child}"`, formatPath(cp));
    const c = group(w, child, cp);
    w.b.addChild(g, c);
    walkGroup(w, c, childNode, cp);
  }
}

/** Check a vars mapping: names, types of the connection keys, Ansible variables plumb does not follow. */
function checkVars(w: Walk, vars: unknown, path: PathPart[]): boolean {
  return checkVarsMapping(w.src, w.root, vars, path, w.diags, (p) => maskYamlValue(w.mask, w.src, w.root, p));
}

/** The same check for any YAML mapping of variables (inventory groups and hosts, group_vars and host_vars files). */
export function checkVarsMapping(src: YamlSource, root: Node, vars: unknown, path: PathPart[], diags: DiagnosticList, hide: (path: PathPart[]) => void): boolean {
  if (!isRecord(vars)) {
    diags.error(valuePos(src, root, path), `expected a mapping of variables, found ${describeValue(vars)}`, formatPath(path));
    return false;
  }
  let ok = true;
  for (const [k, v] of Object.entries(vars)) {
    const p = [...path, k];
    const at = { name: keyPos(src, root, p), value: valuePos(src, root, p), path: formatPath(p) };
    if (!checkVariable(k, v, at, diags, () => hide(p))) ok = false;
  }
  return ok;
}

export function isRecord(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
