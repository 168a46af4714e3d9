/**
 * Python's re.sub replacement template, shared by the file modules (replace) and the template
 * engine's regex_replace, which both promise Python's meaning.
 */

/**
 * Python's re.sub template: `\1`..`\99`, `\g<n>`, `\g<name>`, `\n` `\t` `\r` `\\`; an unmatched
 * group is empty. Returned as a function of a match so no `$` in it means anything.
 */
function pyExpand(template: string): (match: string[], groups: Record<string, string | undefined> | undefined) => string {
  return (m, groups) =>
    template.replace(/\\(g<(\w+)>|\d{1,2}|.)/gs, (all, esc: string, name: string | undefined) => {
      const key = name ?? (/^\d/.test(esc) ? esc : undefined);
      if (key !== undefined) return (/^\d+$/.test(key) ? m[Number(key)] : groups?.[key]) ?? '';
      switch (esc) {
        case '\\':
          return '\\';
        case 'n':
          return '\n';
        case 't':
          return '\t';
        case 'r':
          return '\r';
        default:
          return all;
      }
    });
}

/**
 * re.subn(pattern, template, text[, count]) on a JavaScript RegExp: the new text and the number
 * of replacements. Each match's groups come from the match itself, so lookarounds and anchors
 * keep seeing the whole text; `count` > 0 replaces only the first `count` matches.
 */
export function pySubn(re: RegExp, template: string, text: string, count = 0): { text: string; count: number } {
  const expand = pyExpand(template);
  const global = re.flags.includes('g') ? re : new RegExp(re.source, re.flags + 'g');
  let done = 0;
  const out = text.replace(global, (...args: unknown[]) => {
    if (count > 0 && done >= count) return args[0] as string;
    done++;
    const hasGroups = typeof args[args.length - 1] === 'object';
    const groups = hasGroups ? (args[args.length - 1] as Record<string, string | undefined>) : undefined;
    const captures = args.slice(0, hasGroups ? -3 : -2) as string[];
    return expand(captures, groups);
  });
  return { text: out, count: done };
}
