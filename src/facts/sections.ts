/**
 * The framing the fact-setting snippets (host facts, services, packages) share:
 * each source is its own section, and every content line is prefixed with `|`,
 * so no value a host returns (a hostname with a newline, a unit name, a hostile
 * os-release) can forge a section marker.
 */

/** Every source is capped: a host cannot flood the controller through its facts. */
export const SECTION_CAP = 65536;

/** A section: `MARK NAME`, then `command`'s output, capped and `|`-prefixed. */
export function section(mark: string, name: string, command: string, cap = SECTION_CAP): string {
  return `echo '${mark} ${name}'; { ${command}; } 2>/dev/null | head -c ${cap} | sed 's/^/|/'; echo`;
}

/** The sections of `stdout`: name → lines (the `|` prefix removed). */
export function sections(mark: string, stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${mark} `)) out.set(line.slice(mark.length + 1), (current = []));
    else if (line.startsWith('|') && current) current.push(line.slice(1));
  }
  return out;
}
