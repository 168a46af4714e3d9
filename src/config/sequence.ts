/**
 * Ansible's `with_sequence` (the sequence lookup): numbers from start to end by stride, or
 * `count` of them, each formatted with a printf-style format ("%d" by default). Written as the
 * shortcut `[start-]end[/stride][:format]`, as key=value pairs (`start=1 end=9 stride=2
 * format=web%02d`), or as a mapping of the same keys. Pure: used at load time to check a
 * literal value and at plan time on the rendered one.
 */
import { percentFormat } from '../template/filters.js';
import { KeyValueError, parseKeyValues } from './key-value.js';

export class SequenceError extends Error {}

/** Python's int(text, 0): decimal without leading zeros, 0x/0o/0b, underscores between digits. */
function pythonInt(name: string, raw: unknown): number {
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  const text = String(raw).trim();
  const m = /^([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?0)*|[1-9](?:_?[0-9])*)$/.exec(text);
  if (!m) throw new SequenceError(`with_sequence: can't parse ${name}=${text} as integer`);
  const n = Number(m[2].replace(/_/g, ''));
  return m[1] === '-' ? -n : n;
}

// Ansible's shortcut: NUM is "0?x?[0-9a-f]+", case-insensitive.
const SHORTCUT = /^((0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(\/(0?x?[0-9a-f]+))?(:(.+))?$/i;

interface Settings {
  start: number;
  end?: number;
  count?: number;
  stride: number;
  format: string;
}

function fromOptions(options: Record<string, unknown>): Settings {
  const s: Settings = { start: 1, stride: 1, format: '%d' };
  const rest = { ...options };
  for (const key of ['start', 'end', 'count', 'stride'] as const) {
    const raw = rest[key];
    delete rest[key];
    if (raw !== undefined && raw !== null) s[key] = pythonInt(key, raw);
  }
  if (rest.format !== undefined) s.format = String(rest.format);
  delete rest.format;
  if (Object.keys(rest).length) throw new SequenceError(`with_sequence: unrecognized arguments ${Object.keys(rest).join(', ')} (start, end, count, stride, format)`);
  return s;
}

function parse(term: unknown): Settings {
  if (term !== null && typeof term === 'object' && !Array.isArray(term)) return fromOptions(term as Record<string, unknown>);
  if (typeof term !== 'string' && typeof term !== 'number')
    throw new SequenceError('with_sequence needs "start=1 end=5", a shortcut such as "1-5/2:%02d", or a mapping of start, end, count, stride, format');
  const text = String(term).trim();
  const m = SHORTCUT.exec(text);
  if (m) {
    const s: Settings = { start: 1, stride: 1, format: '%d', end: pythonInt('end', m[3]) };
    if (m[2] !== undefined) s.start = pythonInt('start', m[2]);
    if (m[5] !== undefined) s.stride = pythonInt('stride', m[5]);
    if (m[7] !== undefined) s.format = m[7];
    return s;
  }
  let parsed;
  try {
    parsed = parseKeyValues(text);
  } catch (e) {
    if (e instanceof KeyValueError) throw new SequenceError(`with_sequence: ${e.message}`);
    throw e;
  }
  if (parsed.free !== undefined && parsed.free.trim() !== '') throw new SequenceError(`with_sequence: "${parsed.free}" is not key=value (start, end, count, stride, format)`);
  return fromOptions(parsed.options);
}

function numbers(s: Settings): number[] {
  if (s.count === undefined && s.end === undefined) throw new SequenceError('with_sequence: give count or end');
  if (s.count !== undefined && s.end !== undefined) throw new SequenceError("with_sequence: can't give both count and end");
  let { start, stride } = s;
  let end: number;
  if (s.count !== undefined) {
    if (s.count === 0) [start, end, stride] = [0, 0, 0];
    else end = start + s.count * stride - 1;
  } else end = s.end!;
  if (stride > 0 && end! < start) throw new SequenceError('with_sequence: to count backwards make stride negative');
  if (stride < 0 && end! > start) throw new SequenceError("with_sequence: to count forward don't make stride negative");
  if (s.format.split('%').length - 1 !== 1) throw new SequenceError(`with_sequence: bad formatting string: ${s.format}`);
  const out: number[] = [];
  // Python's range(start, end ± 1, stride); a stride of 0 gives nothing.
  if (stride > 0) for (let i = start; i <= end!; i += stride) out.push(i);
  else if (stride < 0) for (let i = start; i >= end!; i += stride) out.push(i);
  return out;
}

/** The items of `with_sequence` for a value (one term, or a list of terms whose sequences are joined): strings, as in Ansible. */
export function sequence(value: unknown): string[] {
  const terms = Array.isArray(value) ? value : [value];
  return terms.flatMap((term) => {
    const s = parse(term);
    return numbers(s).map((i) => {
      try {
        return percentFormat(s.format, [i]);
      } catch (e) {
        throw new SequenceError(`with_sequence: problem formatting ${i} with ${JSON.stringify(s.format)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  });
}
