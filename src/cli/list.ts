/**
 * `--list-hosts`, `--list-tasks`, `--list-tags` (on plan and apply, as on
 * ansible-playbook: an Ansible user types them there) and `--start-at-task`.
 * Listing loads and checks the playbook and inventory and contacts nothing;
 * its text follows ansible-playbook's, so the two can be compared line by line.
 */
import type { Play, Playbook, Task } from '../config/model.js';
import { loadProject, parseExtraVars, type Project } from '../config/project.js';
import { applyLimit, matchHosts } from '../inventory/patterns.js';
import { PlumbError } from '../errors.js';
import { selectedByTags, type TagFilter } from '../engine/prepare.js';
import { closest } from '../source/suggest.js';
import type { Io } from './command.js';
import type { RunCommandOptions } from './run-command.js';

export interface ListWhat {
  hosts: boolean;
  tasks: boolean;
  tags: boolean;
}

/** The name Ansible shows for a task: "role : name" for a role's. */
export function listedName(task: Task): string {
  return task.role ? `${task.role} : ${task.name}` : task.name;
}

/** Print the listing; returns the exit code (0). */
export async function listCommand(o: RunCommandOptions, what: ListWhat, io: Io): Promise<number> {
  const project = await loadProject({
    playbookPath: o.playbook,
    inventoryPath: o.inventory,
    extraVars: parseExtraVars(o.extraVars ?? []),
    secretsFile: o.secretsFile,
    rolesPath: o.rolesPath,
  });
  if (o.startAtTask !== undefined) startAtTask(project.playbook, o.startAtTask);
  if (o.limit) matchHosts(project.inventory, o.limit);
  io.stdout(listing(project, what, o.limit, { tags: o.tags, skipTags: o.skipTags }));
  return 0;
}

export function listing(project: Project, what: ListWhat, limit: string | undefined, tags: TagFilter): string {
  const lines = ['', `playbook: ${project.playbook.file}`];
  project.playbook.plays.forEach((play, i) => {
    lines.push('', `  play #${i + 1} (${play.hosts}): ${play.name}\tTAGS: []`);
    if (what.hosts) {
      const hosts = applyLimit(project.inventory, matchHosts(project.inventory, play.hosts), limit);
      lines.push(
        `    pattern: [${play.hosts
          .split(':')
          .map((h) => `'${h}'`)
          .join(', ')}]`,
        `    hosts (${hosts.length}):`,
        ...hosts.map((h) => `      ${h}`),
      );
    }
    if (!what.tasks && !what.tags) return;
    // As ansible-playbook lists them: a block's rescue and always tasks are not listed.
    const selected = play.tasks.filter((t) => selectedByTags(t, tags) && !t.blocks?.some((f) => f.section !== 'block'));
    if (what.tasks) {
      lines.push('    tasks:');
      for (const t of selected) lines.push(`      ${listedName(t)}\tTAGS: [${[...t.tags].sort().join(', ')}]`);
    }
    if (what.tags) lines.push(`      TASK TAGS: [${[...new Set(selected.flatMap((t) => t.tags))].sort().join(', ')}]`);
  });
  return lines.join('\n') + '\n';
}

/**
 * --start-at-task: the tasks before the first one with this name (in any play)
 * are left out; earlier plays run no task. The name may be "role : name".
 */
export function startAtTask(playbook: Playbook, name: string): void {
  const all = playbook.plays.flatMap((p) => p.tasks);
  const first = all.find((t) => t.name === name || listedName(t) === name);
  if (!first) {
    const near = closest(name, all.map(listedName), 1);
    throw new PlumbError(`--start-at-task ${JSON.stringify(name)}: no task has this name${near.length ? ` (did you mean "${near[0]}"?)` : ''}`);
  }
  for (const play of playbook.plays as Play[]) {
    const at = play.tasks.indexOf(first);
    play.tasks = at >= 0 ? play.tasks.slice(at) : [];
    if (at >= 0) break;
  }
}
