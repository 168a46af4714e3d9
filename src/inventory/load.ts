/**
 * Ansible's YAML inventory: `all: {hosts, vars, children}` with nested groups.
 * Host variables merge in Ansible's order: `all`, then groups from parent to
 * child (by depth, then by order of definition), then the host's own vars.
 */
import { isMap, type Node } from 'yaml';
import type { Connection, Inventory, InventoryHost } from './model.js';
import { DiagnosticList } from '../source/diagnostics.js';
import { ansibleConnectionNames, connectionKeyNames, connectionKeys, groupKeywordNames, type ConnectionKey } from './schema.js';
import { isVariableName } from '../source/names.js';
import { formatPath, keyPos, readYaml, valuePos, type PathPart, type YamlSource } from '../source/yaml.js';
import { didYouMean } from '../source/suggest.js';
import { describeValue, zodMessage } from '../source/issues.js';

interface GroupInfo {
  name: string;
  order: number;
  vars: Record<string, unknown>;
  hosts: string[];
  children: string[];
  parents: Set<string>;
  /** Where the group was first named, for errors about it. */
  path: PathPart[];
}

interface HostInfo {
  name: string;
  order: number;
  vars: Record<string, unknown>;
  path: PathPart[];
}

const NAME = /^[A-Za-z0-9_.\-[\]:]+$/;

/** Load an inventory file; problems are added to `diags` (the caller throws). */
export function loadInventory(file: string, diags: DiagnosticList): Inventory | undefined {
  const src = readYaml(file, diags, 'inventory');
  return src ? resolveInventory(src, diags) : undefined;
}

/** The groups and hosts as written, gathered while walking the document. */
interface Walk {
  src: YamlSource;
  root: Node;
  diags: DiagnosticList;
  groups: Map<string, GroupInfo>;
  hosts: Map<string, HostInfo>;
}

/** An inventory from its parsed YAML: groups and hosts, membership, merged variables. Reads nothing. */
export function resolveInventory(src: YamlSource, diags: DiagnosticList): Inventory | undefined {
  const root = src.doc.contents as Node;
  const value = src.value;
  if (!isRecord(value) || !isMap(root)) {
    diags.error(valuePos(src, root, []), `expected a mapping of groups such as \`all: {hosts: ..., children: ...}\`, found ${describeValue(value)}`);
    return undefined;
  }
  const errorsBefore = diags.items.length;
  const w: Walk = { src, root, diags, groups: new Map(), hosts: new Map() };
  group(w, 'all');
  for (const [top, node] of Object.entries(value)) {
    if (top !== 'all') {
      group(w, 'all').children.push(top);
      group(w, top).parents.add('all');
    }
    walkGroup(w, top, node, [top]);
  }
  refuseHostGroupClashes(w);
  // Groups without a parent hang under all (a child defined only by reference still has one).
  for (const g of w.groups.values()) if (g.name !== 'all' && g.parents.size === 0) g.parents.add('all');
  const depth = groupDepths(w);
  if (diags.items.slice(errorsBefore).some((d) => d.severity === 'error')) return undefined;
  return buildInventory(src.file, w.groups, w.hosts, depth);
}

function group(w: Walk, name: string, path: PathPart[] = [name]): GroupInfo {
  let g = w.groups.get(name);
  if (!g) {
    g = { name, order: w.groups.size, vars: {}, hosts: [], children: [], parents: new Set(), path };
    w.groups.set(name, g);
  }
  return g;
}

function walkGroup(w: Walk, name: string, node: unknown, path: PathPart[]): void {
  const { src, root, diags } = w;
  const g = group(w, name, path);
  if (node === null || node === undefined) return;
  if (!isRecord(node)) {
    diags.error(valuePos(src, root, path), `expected a group (a mapping with hosts, vars or children), found ${describeValue(node)}`, formatPath(path));
    return;
  }
  for (const key of Object.keys(node)) {
    if (!(groupKeywordNames as readonly string[]).includes(key)) {
      const hint = didYouMean(key, groupKeywordNames);
      diags.error(keyPos(src, root, [...path, key]), `unknown key "${key}" in group "${name}"${hint || '; a group has hosts, vars and children'}`, formatPath([...path, key]));
    }
  }
  if (node.vars !== undefined && node.vars !== null) {
    if (checkVars(src, root, node.vars, [...path, 'vars'], diags)) Object.assign(g.vars, node.vars);
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
    let h = w.hosts.get(hostName);
    if (!h) {
      h = { name: hostName, order: w.hosts.size, vars: {}, path: hp };
      w.hosts.set(hostName, h);
    }
    if (!g.hosts.includes(hostName)) g.hosts.push(hostName);
    if (hostVars !== null && hostVars !== undefined && checkVars(src, root, hostVars, hp, diags)) Object.assign(h.vars, hostVars);
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
    if (!g.children.includes(child)) g.children.push(child);
    group(w, child, cp).parents.add(g.name);
    walkGroup(w, child, childNode, cp);
  }
}

function refuseHostGroupClashes(w: Walk): void {
  for (const name of w.groups.keys()) {
    const h = w.hosts.get(name);
    if (h) w.diags.error(keyPos(w.src, w.root, h.path), `"${name}" is both a host and a group; patterns could not tell them apart`, formatPath(h.path));
  }
}

/** Each group's distance from `all` along its longest parent chain (variables merge in this order); a cycle is an error. */
function groupDepths(w: Walk): Map<string, number> {
  const depth = new Map<string, number>();
  const depthOf = (name: string, stack: string[]): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (stack.includes(name)) {
      const at = w.groups.get(name)!.path;
      w.diags.error(keyPos(w.src, w.root, at), `group cycle: ${[...stack.slice(stack.indexOf(name)), name].join(' → ')}`, formatPath(at));
      return 0;
    }
    let d = 0;
    if (name !== 'all') for (const p of w.groups.get(name)!.parents) d = Math.max(d, depthOf(p, [...stack, name]) + 1);
    depth.set(name, d);
    return d;
  };
  for (const name of w.groups.keys()) depthOf(name, []);
  return depth;
}

/** Membership (direct and through children) and variables merged all < parent < child < host. */
function buildInventory(file: string, groups: Map<string, GroupInfo>, hosts: Map<string, HostInfo>, depth: Map<string, number>): Inventory {
  const ordered = [...groups.values()].sort((a, b) => depth.get(a.name)! - depth.get(b.name)! || a.order - b.order);
  const members = new Map<string, Set<string>>();
  const membersOf = (name: string): Set<string> => {
    let m = members.get(name);
    if (m) return m;
    m = new Set();
    members.set(name, m);
    const g = groups.get(name)!;
    for (const h of g.hosts) m.add(h);
    for (const c of g.children) for (const h of membersOf(c)) m.add(h);
    return m;
  };
  const hostOrder = (a: string, b: string) => hosts.get(a)!.order - hosts.get(b)!.order;

  const inventory: Inventory = { file, hosts: new Map(), groups: new Map() };
  for (const g of ordered) {
    const list = g.name === 'all' ? [...hosts.keys()] : [...membersOf(g.name)].sort(hostOrder);
    inventory.groups.set(g.name, list);
  }
  for (const h of [...hosts.values()].sort((a, b) => a.order - b.order)) {
    const hostGroups = ordered.filter((g) => g.name === 'all' || membersOf(g.name).has(h.name)).map((g) => g.name);
    const vars: Record<string, unknown> = {};
    for (const gname of hostGroups) Object.assign(vars, groups.get(gname)!.vars);
    Object.assign(vars, h.vars);
    const host: InventoryHost = { name: h.name, groups: hostGroups, vars, connection: connectionOf(vars) };
    inventory.hosts.set(h.name, host);
  }
  return inventory;
}

function connectionOf(vars: Record<string, unknown>): Connection {
  const c: Record<string, unknown> = {};
  for (const k of connectionKeyNames) if (vars[k] !== undefined && vars[k] !== null) c[k] = vars[k];
  return c as Connection;
}

/** Check a vars mapping: names, and types of the connection keys. */
function checkVars(src: YamlSource, root: Node, vars: unknown, path: PathPart[], diags: DiagnosticList): boolean {
  if (!isRecord(vars)) {
    diags.error(valuePos(src, root, path), `expected a mapping of variables, found ${describeValue(vars)}`, formatPath(path));
    return false;
  }
  let ok = true;
  for (const [k, v] of Object.entries(vars)) {
    const p = [...path, k];
    if (!isVariableName(k)) {
      diags.error(keyPos(src, root, p), `invalid variable name "${k}": use letters, digits and _, not starting with a digit`, formatPath(p));
      ok = false;
      continue;
    }
    if (Object.hasOwn(ansibleConnectionNames, k)) {
      diags.warning(keyPos(src, root, p), `plumb reads "${ansibleConnectionNames[k]}", not Ansible's "${k}"; this is an ordinary variable here`, formatPath(p));
    }
    if ((connectionKeyNames as string[]).includes(k) && v !== null) {
      const r = connectionKeys[k as ConnectionKey].safeParse(v);
      if (!r.success) {
        const issue = r.error.issues[0];
        diags.error(valuePos(src, root, p), zodMessage(issue, v, []), formatPath(p));
        ok = false;
      }
    }
  }
  return ok;
}

function isRecord(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
