/**
 * Python `re` meanings the file-editing modules rely on, written as JavaScript: each expectation
 * is what Python 3 gives for the same pattern and text (checked with python3 when written).
 */
import { describe, expect, it } from 'vitest';
import { pyRegExp, translatePyRegex } from '../../src/modules/pyre.js';
import { pySubn } from '../../src/py-replacement.js';

const sub = (pattern: string, repl: string, text: string, flags = { multiline: true }) => pySubn(pyRegExp(pattern, flags), repl, text);

describe('Python regular expressions in JavaScript', () => {
  it('. stops only at \\n, so a CRLF line keeps nothing of its \\r apart', () => {
    expect(sub('^k=.*$', 'k=9', 'k=1\r\nj=2\r\n')).toEqual({ text: 'k=9\nj=2\r\n', count: 1 });
  });
  it('without MULTILINE, $ also matches before a final newline, and ^ only at the start', () => {
    expect(pyRegExp('a$').test('a\n')).toBe(true);
    expect(pyRegExp('a$').test('a\nb')).toBe(false);
    expect(pyRegExp('^b').test('a\nb')).toBe(false);
  });
  it('\\A and \\Z are the start and end of the text, even under MULTILINE', () => {
    expect(sub('\\Aa', 'b', 'a\na\n').text).toBe('b\na\n');
    expect(sub('a\\Z', 'b', 'a\na').text).toBe('a\nb');
  });
  it('a ] first in a class is a literal, as in Python', () => {
    expect(sub('[]x]', '-', 'a]x').text).toBe('a--');
  });
  it('named groups, \\g<name>, \\1, \\n in the replacement, and $ taken literally', () => {
    expect(sub('(?P<k>\\w+)=(\\d)', '\\g<k>:\\2$1\\n', 'ab=1').text).toBe('ab:1$1\n');
  });
  it('leading inline flags apply; verbose mode and scoped flags are refused', () => {
    expect(translatePyRegex('(?si)a.b').flags).toEqual({ multiline: false, dotall: true, ignorecase: true });
    expect(sub('(?i)A', 'x', 'a').text).toBe('x');
    expect(() => translatePyRegex('(?x) a')).toThrow(/no JavaScript equivalent/);
    expect(() => translatePyRegex('a(?i:b)')).toThrow(/no JavaScript equivalent/);
  });
  it('\\w, \\d and \\b know Unicode letters and digits, as Python 3 on text', () => {
    expect(sub('=\\w+$', '=x', 'name=café\n').text).toBe('name=x\n');
    expect(sub('[\\w]+', '_', 'é1-').text).toBe('_-');
    expect(sub('\\bé', 'E', 'é aé').text).toBe('E aé');
    expect(sub('\\d', '#', '٣3').text).toBe('##');
  });
  it('counts every replacement, an unmatched group being empty', () => {
    expect(sub('a(b)?', '[\\1]', 'ab a')).toEqual({ text: '[b] []', count: 2 });
  });
  it('re.sub count: only the first count matches are replaced (regex_replace(count=) in newer Ansible)', () => {
    expect(pySubn(pyRegExp('a'), 'b', 'a-a-a-a', 2)).toEqual({ text: 'b-b-a-a', count: 2 });
  });
});
