/**
 * Groups and hosts as the inventory files write them, gathered from any
 * number of files (YAML and INI, one file or a directory), then resolved into
 * an Inventory: membership, `ungrouped`, and variables merged in Ansible's
 * order (see mergeHostVars).
 */
import type { DiagnosticList } from '../source/diagnostics.js';
import type { SourcePos } from '../source/pos.js';
import type { Inventory, InventoryGroup, InventoryHost } from './model.js';
import { VarsMerge } from './connection.js';

export interface GroupInfo {
  name: string;
  order: number;
  vars: Record<string, unknown>;
  hosts: string[];
  children: string[];
  parents: Set<string>;
  /** Where the group was first named, for errors about it. */
  pos: SourcePos & { length?: number };
  path?: string;
}

export interface HostInfo {
  name: string;
  order: number;
  vars: Record<string, unknown>;
  pos: SourcePos & { length?: number };
  path?: string;
}

/** Variables from group_vars/ and host_vars/ files, one layer per directory (inventory's, playbook's). */
export interface VarsLayer {
  groups: Map<string, Record<string, unknown>>;
  hosts: Map<string, Record<string, unknown>>;
}

/** Host and group names: what patterns and plumb's messages can work with. */
export const NAME = /^[A-Za-z0-9_.\-[\]:@]+$/;

export class InventoryBuilder {
  readonly groups = new Map<string, GroupInfo>();
  readonly hosts = new Map<string, HostInfo>();

  constructor(readonly diags: DiagnosticList) {
    const all = this.group('all', { file: '', line: 1, column: 1 });
    // Ansible starts every inventory with all → ungrouped, so ungrouped is all's first child.
    this.addChild(all, this.group('ungrouped', { file: '', line: 1, column: 1 }));
  }

  group(name: string, pos: SourcePos & { length?: number }, path?: string): GroupInfo {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, order: this.groups.size, vars: {}, hosts: [], children: [], parents: new Set(), pos, path };
      this.groups.set(name, g);
    }
    return g;
  }

  host(name: string, pos: SourcePos & { length?: number }, path?: string): HostInfo {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, order: this.hosts.size, vars: {}, pos, path };
      this.hosts.set(name, h);
    }
    return h;
  }

  addHost(group: GroupInfo, host: HostInfo): void {
    if (!group.hosts.includes(host.name)) group.hosts.push(host.name);
  }

  addChild(parent: GroupInfo, child: GroupInfo): void {
    if (!parent.children.includes(child.name)) parent.children.push(child.name);
    child.parents.add(parent.name);
  }

  /** Membership and merged variables; undefined when a new error was found. */
  build(sources: string[], layers: { inventory: VarsLayer[]; playbook: VarsLayer[] }): Inventory | undefined {
    const errorsBefore = this.diags.items.filter((d) => d.severity === 'error').length;
    this.refuseHostGroupClashes();
    const all = this.groups.get('all')!;
    for (const g of this.groups.values()) {
      if (g.name === 'all') continue;
      // Groups without a parent hang under all, as in Ansible.
      if (g.parents.size === 0) this.addChild(all, g);
    }
    const depth = this.groupDepths();
    if (this.diags.items.filter((d) => d.severity === 'error').length > errorsBefore) return undefined;
    this.fillUngrouped();
    return this.resolve(sources, depth, layers);
  }

  private refuseHostGroupClashes(): void {
    for (const name of this.groups.keys()) {
      const h = this.hosts.get(name);
      if (h) this.diags.error(h.pos, `"${name}" is both a host and a group; patterns could not tell them apart`, h.path);
    }
  }

  /** Each group's distance from `all` along its longest parent chain (variables merge in this order); a cycle is an error. */
  private groupDepths(): Map<string, number> {
    const depth = new Map<string, number>();
    const depthOf = (name: string, stack: string[]): number => {
      const known = depth.get(name);
      if (known !== undefined) return known;
      if (stack.includes(name)) {
        const g = this.groups.get(name)!;
        this.diags.error(g.pos, `group cycle: ${[...stack.slice(stack.indexOf(name)), name].join(' → ')}`, g.path);
        return 0;
      }
      let d = 0;
      if (name !== 'all') for (const p of this.groups.get(name)!.parents) d = Math.max(d, depthOf(p, [...stack, name]) + 1);
      depth.set(name, d);
      return d;
    };
    for (const name of this.groups.keys()) depthOf(name, []);
    return depth;
  }

  /** Ansible's `ungrouped`: exactly the hosts that belong to no other group. */
  private fillUngrouped(): void {
    const ungrouped = this.groups.get('ungrouped')!;
    const grouped = new Set<string>();
    for (const g of this.groups.values()) if (g.name !== 'all' && g.name !== 'ungrouped') for (const h of g.hosts) grouped.add(h);
    ungrouped.hosts = [...this.hosts.keys()].filter((h) => !grouped.has(h));
  }

  private resolve(sources: string[], depth: Map<string, number>, layers: { inventory: VarsLayer[]; playbook: VarsLayer[] }): Inventory {
    const groups = this.groups;
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
    const ordered = [...groups.values()].sort((a, b) => depth.get(a.name)! - depth.get(b.name)! || a.order - b.order);
    // Ansible merges a host's groups by depth, then by name (not by order of definition).
    const byName = (a: string, b: string) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : a > b ? 1 : 0);
    const hostOrder = (a: string, b: string) => this.hosts.get(a)!.order - this.hosts.get(b)!.order;

    const inventory: Inventory = { file: sources.join(','), sources, hosts: new Map(), groups: new Map(), tree: new Map() };
    for (const g of ordered) {
      const list = g.name === 'all' ? [...this.hosts.keys()] : [...membersOf(g.name)].sort(hostOrder);
      inventory.groups.set(g.name, list);
      const tree: InventoryGroup = { hosts: [...g.hosts], children: [...g.children], vars: { ...g.vars } };
      inventory.tree.set(g.name, tree);
    }
    for (const h of [...this.hosts.values()].sort((a, b) => a.order - b.order)) {
      const hostGroups = ordered.filter((g) => g.name === 'all' || membersOf(g.name).has(h.name)).map((g) => g.name);
      const merged = mergeHostVars(h, hostGroups.filter((g) => g !== 'all').sort(byName), groups, layers);
      const host: InventoryHost = { name: h.name, groups: hostGroups, vars: merged.vars, connection: merged.connection() };
      inventory.hosts.set(h.name, host);
    }
    return inventory;
  }
}

/**
 * Ansible's order (lowest first), as VariableManager applies it:
 * inventory file `all` < inventory file groups (by depth, then name) <
 * inventory group_vars/all < playbook group_vars/all < inventory group_vars/<group> <
 * playbook group_vars/<group> < inventory file host vars < inventory host_vars/<host> <
 * playbook host_vars/<host>. Top-level keys replace; nothing is deep-merged.
 */
function mergeHostVars(host: HostInfo, hostGroups: string[], groups: Map<string, GroupInfo>, layers: { inventory: VarsLayer[]; playbook: VarsLayer[] }): VarsMerge {
  const m = new VarsMerge();
  m.add(groups.get('all')!.vars);
  for (const g of hostGroups) m.add(groups.get(g)!.vars);
  for (const layer of layers.inventory) m.add(layer.groups.get('all'));
  for (const layer of layers.playbook) m.add(layer.groups.get('all'));
  for (const layer of layers.inventory) for (const g of hostGroups) m.add(layer.groups.get(g));
  for (const layer of layers.playbook) for (const g of hostGroups) m.add(layer.groups.get(g));
  m.add(host.vars);
  for (const layer of layers.inventory) m.add(layer.hosts.get(host.name));
  for (const layer of layers.playbook) m.add(layer.hosts.get(host.name));
  return m;
}
