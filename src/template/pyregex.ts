/** Python `re` syntax on JavaScript regexes: named groups, \A and \Z (replacement templates: src/py-replacement.ts). */
import { TemplateError } from './errors.js';

export function pyRegex(pattern: string, flags = ''): RegExp {
  const source = pattern
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  // Inline flags at the start, as Python allows: (?i) (?m) (?s) (?x is not supported).
  const inline = /^\(\?([ims]+)\)/.exec(source);
  try {
    if (inline) return new RegExp(source.slice(inline[0].length), [...new Set(flags + inline[1])].join('') + 'u');
    return new RegExp(source, flags + 'u');
  } catch {
    try {
      return new RegExp(source, flags);
    } catch (err) {
      throw new TemplateError(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
  }
}
