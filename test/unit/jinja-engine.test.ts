import { describe, expect, it } from 'vitest';
import { renderString, renderValue, VarScope } from '../../src/template/render.js';
import { TemplateError } from '../../src/template/errors.js';
import { shaCrypt } from '../../src/template/crypt.js';

const file = (text: string, vars: Record<string, unknown> = {}, name = 'templates/main.cf.j2') => new VarScope(vars, { env: {} }).renderFile(text, { file: name });

describe('statements and whitespace (Ansible: trim_blocks on, lstrip_blocks off)', () => {
  it.each([
    ['a\n{% if true %}\n  b\n{% endif %}\nc\n', {}, 'a\n  b\nc\n'],
    ['{% for x in xs %}{{ loop.index }}={{ x }}{% if not loop.last %},{% endif %}{% else %}none{% endfor %}', { xs: ['a', 'b'] }, '1=a,2=b'],
    ['{% for x in xs %}{{ x }}{% else %}none{% endfor %}', { xs: [] }, 'none'],
    ['{% for k, v in d | dictsort %}{{ k }}={{ v }} {% endfor %}', { d: { b: 1, a: 2 } }, 'a=2 b=1 '],
    ['{% for x in xs if x > 1 %}{{ x }}/{{ loop.length }} {% endfor %}', { xs: [1, 2, 3] }, '2/2 3/2 '],
    ['{% set n = namespace(total=0) %}{% for x in [1, 2, 3] %}{% set n.total = n.total + x %}{% endfor %}{{ n.total }}', {}, '6'],
    ['{% macro row(k, v="-") %}{{ k }}: {{ v }}{% endmacro %}{{ row("a") }}|{{ row("b", v=2) }}', {}, 'a: -|b: 2'],
    ['{% filter upper %}hi {{ name }}{% endfilter %}', { name: 'bo' }, 'HI BO'],
    ['{% set block %}x{{ 1 + 1 }}{% endset %}{{ block }}', {}, 'x2'],
    ['{% raw %}{{ kept }}{% endraw %}', {}, '{{ kept }}'],
    ['a  {%- if true -%}  b  {%- endif %}  c', {}, 'ab  c'],
    ['{# note #}\nx', {}, 'x'],
    ['{% with a = 2 %}{{ a * 3 }}{% endwith %}', {}, '6'],
    ['{{ 7 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}', {}, '3.5 2.0 3 2 1024'],
    ['{{ [1, "a", none, true] }} {{ {"k": "v"} }}', {}, "[1, 'a', None, True] {'k': 'v'}"],
    ['{{ none }}|{{ x }}', { x: null }, '|'],
    ["{% macro box(t) %}[{{ t }}:{{ caller('in') }}]{% endmacro %}{% call(w) box('a') %}body {{ w }}{% endcall %}", {}, '[a:body in]'],
    [
      '{% for n in tree recursive %}{{ loop.depth }}{{ n.name }}({{ loop(n.kids) if n.kids else "" }}){% endfor %}',
      { tree: [{ name: 'a', kids: [{ name: 'b', kids: [] }] }] },
      '1a(2b())',
    ],
    ["{% set c = cycler('x', 'y') %}{% set j = joiner('+') %}{% for i in range(3) %}{{ j() }}{{ c.next() }}{% endfor %}", {}, 'x+y+x'],
    ['{% for x in [1, 1, 2] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}', {}, '12'],
    ["{{ '%s:%d' % ('mx', 25) }} {{ -3 | abs }} {{ 'a' ~ none }}", {}, 'mx:25 3 aNone'],
  ])('%j', (text, vars, expected) => {
    expect(file(text, vars)).toBe(expected);
  });

  it('keeps an unchanged file byte for byte, trailing newline included', () => {
    expect(file('plain\n\n')).toBe('plain\n\n');
  });
});

describe('errors name the template file, line and column', () => {
  const at = (text: string, vars = {}) => {
    try {
      file(text, vars);
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  it('syntax errors', () => {
    expect(at('line1\n{% if x %}\nno end\n')).toBe('templates/main.cf.j2:2:1: {% if %} is never closed: missing {% endif %}');
    expect(at('a\n  {{ x + }}')).toMatch(/^templates\/main\.cf\.j2:2:10: /);
    expect(at('{% endfor %}')).toMatch(/^templates\/main\.cf\.j2:1:1: unexpected \{% endfor %\}/);
    expect(at('{% frobnicate %}')).toMatch(/unknown statement/);
  });
  it('undefined variables (StrictUndefined) at the name', () => {
    expect(at('ok\nrelay = {{ relay_hots }}', { relay_host: 'x' })).toBe('templates/main.cf.j2:2:12: undefined variable "relay_hots" (did you mean "relay_host"?)');
    expect(at('{% for x in nope %}{% endfor %}')).toMatch(/^templates\/main\.cf\.j2:1:13: undefined variable "nope"/);
    expect(at('{% if x.missing %}{% endif %}', { x: {} })).toMatch(/undefined key: x\.missing/);
  });
});

describe('templates cannot reach JavaScript', () => {
  const hostile = [
    "{{ ''.constructor }}",
    '{{ range.constructor("return process")() }}',
    "{{ ''.constructor.constructor('return process')() }}",
    '{{ x.__proto__ }}',
    '{{ x.__class__ }}',
    '{{ lookup.constructor }}',
    "{{ [].map('x') }}",
    '{{ loop }}',
    "{{ ''.toString() }}",
    '{{ namespace.call }}',
    "{{ x['__proto__']['polluted'] }}",
    "{{ (x | list).constructor('return 1')() }}",
  ];
  it.each(hostile.map((h) => [h]))('%s', (t) => {
    expect(() => renderString(t, new VarScope({ x: {} }, { env: {} }))).toThrow(TemplateError);
  });
  it('cannot change variables it did not make', () => {
    expect(() => renderString('{{ xs.append(3) }}', { xs: [1] })).toThrow(/only lists and dicts the template made/);
    expect(renderString('{% set l = [] %}{% set _ = l.append(1) %}{{ l }}', {})).toBe('[1]');
  });
});

describe('filters', () => {
  const r = (t: string, vars: Record<string, unknown> = {}) => renderString(t, new VarScope(vars, { env: {} }));
  it.each([
    ["{{ 'yes' | bool }} {{ 'off' | bool }} {{ 1 | bool }}", 'True False True'],
    ["{{ '' | default('x', true) }} {{ missing | d('y') }} {{ 0 | default(5) }}", 'x y 0'],
    ["{{ '3.9' | int }} {{ 'junk' | int }} {{ '0x1f' | int(base=16) }} {{ 2 | float }}", '3 0 31 2.0'],
    ["{{ 'ab-12' | regex_replace('(\\\\w+)-(\\\\d+)', '\\\\2:\\\\g<1>') }}", '12:ab'],
    ["{{ 'k=v' | regex_search('(?P<key>\\\\w+)=(\\\\w+)', '\\\\g<key>', '\\\\2') }}", "['k', 'v']"],
    ["{{ 'a1b22' | regex_findall('\\\\d+') }}", "['1', '22']"],
    ['{{ d | combine(o, recursive=true) }}', "{'a': {'x': 1, 'y': 2}, 'b': 3}"],
    ["{{ {'l': [1]} | combine({'l': [2]}, list_merge='append') }}", "{'l': [1, 2]}"],
    ['{{ d | dict2items | items2dict == d }}', 'True'],
    ['{{ [1, [2, [3]]] | flatten }} {{ [1, [2, [3]]] | flatten(1) }}', '[1, 2, 3] [1, 2, [3]]'],
    ['{{ [1, 2] | union([2, 3]) }} {{ [1, 2] | intersect([2, 3]) }} {{ [1, 2] | difference([2]) }}', '[1, 2, 3] [2] [1]'],
    ["{{ [1, 2] | zip(['a', 'b']) | list }} {{ [1] | product(['x']) | list }}", "[(1, 'a'), (2, 'b')] [(1, 'x')]"],
    ["{{ true | ternary('on', 'off') }} {{ none | ternary('a', 'b', 'n') }}", 'on n'],
    // plumb's one shell quoting function: the same shell word as shlex.quote's 'it'"'"'s'.
    ['{{ "it\'s" | quote }}', "'it'\\''s'"],
    ["{{ 'héllo' | b64encode }} {{ 'aMOpbGxv' | b64decode }}", 'aMOpbGxv héllo'],
    ["{{ {'b': 1, 'a': [1, 'é']} | to_json }}", '{"b": 1, "a": [1, "\\u00e9"]}'],
    ["{{ {'b': 1, 'a': [1]} | to_nice_json }}", '{\n    "a": [\n        1\n    ],\n    "b": 1\n}'],
    ["{{ {'b': {'c': 1}, 'a': ['x', 'yes']} | to_nice_yaml }}", "a:\n- x\n- 'yes'\nb:\n    c: 1\n"],
    ["{{ {'b': 1, 'a': [1, 2]} | to_yaml }}", 'a: [1, 2]\nb: 1\n'],
    ["{{ '{\"a\": [1]}' | from_json }} {{ 'a: [1, 2]' | from_yaml }}", "{'a': [1]} {'a': [1, 2]}"],
    ["{{ 'abc' | hash('sha1') }}", 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ["{{ 'abc' | hash('md5') }}", '900150983cd24fb0d6963f7d28e17f72'],
    ["{{ '/etc/postfix/main.cf' | basename }} {{ '/etc/postfix/main.cf' | dirname }}", 'main.cf /etc/postfix'],
    ["{{ users | map(attribute='n') | list }} {{ ['a'] | map('upper') | list }}", "['x', 'y'] ['A']"],
    ["{{ users | selectattr('admin') | map(attribute='n') | join }} {{ users | rejectattr('admin') | list | length }}", 'x 1'],
    ["{{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A'] | sort }} {{ [1, 1, 2] | unique }}", "[3, 2, 1] ['A', 'b'] [1, 2]"],
    ['{{ [1, 5, 3] | min }} {{ [1, 5, 3] | max }} {{ [1, 2.5] | sum }}', '1 5 3.5'],
    ["{{ 'a b' | split }} {{ 'a,b' | split(',') }}", "['a', 'b'] ['a', 'b']"],
    ['{{ xs | first }} {{ xs | last }} {{ xs | length }} {{ xs | count }}', '1 3 3 3'],
    ["{{ 'hello world' | title }} {{ 'hELLO' | capitalize }} {{ 'AbC' | lower }}{{ 'x' | upper }}", 'Hello World Hello abcX'],
  ])('%s', (t, expected) => {
    expect(
      r(t, {
        d: { a: { x: 1 }, b: 3 },
        o: { a: { y: 2 } },
        users: [
          { n: 'x', admin: true },
          { n: 'y', admin: false },
        ],
        xs: [1, 2, 3],
      }),
    ).toBe(expected);
  });

  it('mandatory names the variable', () => {
    expect(() => r('{{ nope | mandatory }}')).toThrow('mandatory variable "nope" is not defined');
  });

  it("password_hash('sha512', salt) is crypt(3)'s SHA-512 (checked against openssl passwd -5/-6)", () => {
    expect(r("{{ 'secret' | password_hash('sha512', 'saltsalt') }}")).toBe('$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1');
    expect(shaCrypt('Hello world!', 'saltstring', 'sha256')).toBe('$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5');
    expect(shaCrypt('Hello world!', 'saltstringsaltstring', 'sha512', 10000)).toBe(
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    );
  });
});

describe('tests', () => {
  const c = (expr: string, vars: Record<string, unknown> = {}) => renderValue(`{{ ${expr} }}`, vars);
  it.each([
    ["'3.10' is version('3.9', '>')", true],
    ["'1.0.0-beta' is version('1.0.0', '<', version_type='semver')", true],
    ["'no' is falsy(convert_bool=true)", true],
    ["'x\\nmx1' is search('^mx', multiline=true)", true],
    ["'1.2.3' is version('1.2.3', 'eq', strict=true)", true],
    ["'abc' is match('a.c')", true],
    ["'xabc' is match('abc')", false],
    ["'xabc' is search('abc')", true],
    ["'' is falsy and 'x' is truthy", true],
    ['r is changed and r is not failed and r is succeeded and r is success and r is not skipped and r is finished', true],
    ['f is failed and f is not succeeded', true],
    ["x is string and 1 is number and {} is mapping and [] is sequence and 'a' is iterable and none is none", true],
    ['2 in [1, 2] and 3 is odd and 4 is divisibleby 2', true],
  ])('%s', (expr, expected) => {
    expect(c(expr, { r: { changed: true, rc: 0 }, f: { failed: true }, x: 's' })).toBe(expected);
  });
});

describe('native values and lookups', () => {
  it('a lone expression keeps its type; whole floats become numbers', () => {
    expect(renderValue('{{ xs | map("int") | list }}', { xs: ['1', '2'] })).toEqual([1, 2]);
    expect(renderValue('{{ 4 / 2 }}', {})).toBe(2);
  });
  it("lookup('env') and query with wantlist", () => {
    const scope = new VarScope({}, { env: { HOME: '/root' } });
    expect(renderString("{{ lookup('env', 'HOME') }}", scope)).toBe('/root');
    expect(renderValue("{{ query('env', 'HOME') }}", scope)).toEqual(['/root']);
  });
});

describe('secrets follow the data through statements and filters', () => {
  it('a template file that reads a secret through a loop, a macro and a filter reports it', () => {
    const scope = new VarScope({ users: [{ name: 'a', pw: '{{ secret_pw }}' }], secret_pw: 'hunter22', other: 'x' }, { env: {} });
    const { value, reads } = scope.track(() =>
      scope.renderFile('{% macro h(p) %}{{ p | password_hash("sha512", "s") }}{% endmacro %}{% for u in users %}{{ u.name }}:{{ h(u.pw) }}{% endfor %}'),
    );
    expect(String(value)).toMatch(/^a:\$6\$s\$/);
    expect(reads.has('secret_pw')).toBe(true);
    expect(reads.has('other')).toBe(false);
  });
});
