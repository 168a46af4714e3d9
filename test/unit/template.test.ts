import { describe, expect, it } from 'vitest';
import { evaluateCondition, renderString, renderValue, VarScope } from '../../src/template/render.js';
import { TemplateError } from '../../src/template/errors.js';

const vars = {
  relay_host: 'smtp.gmail.com',
  relay_port: 587,
  relayhost: '[{{ relay_host }}]:{{ relay_port }}',
  pkgs: ['postfix', 'sasl2-bin'],
  user: { name: 'Ops Team', tags: ['a', 'b'] },
  word: "it's",
  empty: '',
  flag: true,
};
const pos = { file: 'site.yaml', line: 7, column: 12 };

describe('renderString', () => {
  it.each([
    ['plain text', 'plain text'],
    ['{{ relay_host }}', 'smtp.gmail.com'],
    ['{{relayhost}}', '[smtp.gmail.com]:587'],
    ['{{ user.name | lower }}', 'ops team'],
    ['{{ user.name | upper }}', 'OPS TEAM'],
    ["{{ '  x  ' | trim }}", 'x'],
    ["{{ pkgs | join(' ') }}", 'postfix sasl2-bin'],
    ['{{ pkgs | join }}', 'postfixsasl2-bin'],
    ['{{ word | quote }}', `'it'\\''s'`],
    // Python's json.dumps spacing, as Ansible's to_json.
    ['{{ user | to_json }}', '{"name": "Ops Team", "tags": ["a", "b"]}'],
    ['{{ relay_host | b64encode }}', Buffer.from('smtp.gmail.com').toString('base64')],
    ["{{ missing | default('fallback') }}", 'fallback'],
    ["{{ empty | default('fallback') }}", ''],
    ["{{ empty | default('fallback', true) }}", 'fallback'],
    ['{{ user.tags[1] }}{{ pkgs[0] }}', 'bpostfix'],
    ["{{ user['name'] }}", 'Ops Team'],
    ['{{ relay_port + 1 }}', '588'],
    ["{{ 'a' ~ relay_port }}", 'a587'],
    ["{{ 'yes' if flag else 'no' }}", 'yes'],
    ['{{ flag }}', 'True'],
    ['{{ env.PLUMB_T }}', 'from-env'],
    ['{# comment #}x', 'x'],
    ['a { b } c', 'a { b } c'],
    ["{{ '}}' }}", '}}'],
  ])('%s → %s', (template, expected) => {
    const scope = new VarScope(vars, { env: { PLUMB_T: 'from-env' } });
    expect(renderString(template, scope)).toBe(expected);
  });

  it('keeps the type of a lone expression (a port stays a number)', () => {
    expect(renderValue('{{ relay_port }}', vars)).toBe(587);
    expect(renderValue({ a: ['{{ pkgs }}', '{{ flag }}'] }, vars)).toEqual({ a: [['postfix', 'sasl2-bin'], true] });
  });

  it('names an undefined variable, its position and a close name', () => {
    let err: unknown;
    try {
      renderString('[{{ relay_hots }}]', vars, pos);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toBe('site.yaml:7:12: undefined variable "relay_hots" (did you mean "relay_host"?)');
  });

  it('names an undefined key and an unset environment variable', () => {
    expect(() => renderString('{{ user.nmae }}', vars)).toThrow('undefined key: user.nmae (did you mean "name"?)');
    expect(() => renderString('{{ env.NOPE }}', new VarScope({}, { env: {} }))).toThrow('environment variable NOPE is not set');
  });

  it('detects variable cycles', () => {
    expect(() => renderString('{{ a }}', { a: '{{ b }}', b: 'x{{ a }}' })).toThrow('variable cycle: a → b → a');
  });

  it('renders variables lazily: an unused broken variable is not an error', () => {
    expect(renderString('{{ ok }}', { ok: 'fine', broken: '{{ nope }}' })).toBe('fine');
  });

  it('runs Jinja statements and Python string methods, refuses what is not Jinja', () => {
    expect(renderString('{% for x in pkgs %}{{ x }};{% endfor %}', vars)).toBe('postfix;sasl2-bin;');
    expect(renderString('{{ relay_host.upper() }}', vars)).toBe('SMTP.GMAIL.COM');
    expect(() => renderString('{% for x in pkgs %}', vars)).toThrow(/never closed: missing \{% endfor %\}/);
    expect(() => renderString('{{ x | nosuch }}', { x: 1 })).toThrow(/unknown filter "nosuch"/);
    expect(() => renderString('{{ }}', vars)).toThrow(/empty expression/);
    expect(() => renderString('{{ a', vars)).toThrow(/missing }}/);
  });
});

describe('templates cannot reach code', () => {
  const hostile = [
    '{{ x.__proto__ }}',
    '{{ x.constructor }}',
    "{{ x['constructor'] }}",
    '{{ x.constructor.constructor }}',
    '{{ relay_host.constructor }}',
    '{{ pkgs.constructor }}',
    '{{ pkgs.map }}',
    "{{ relay_host['length'] }}",
    '{{ __proto__ }}',
    '{{ constructor }}',
    '{{ toString }}',
    '{{ hasOwnProperty }}',
    '{{ env.constructor }}',
    "{{ env['__proto__'] }}",
  ];
  it.each(hostile.map((h) => [h]))('%s is an error, not a function or prototype', (t) => {
    const scope = new VarScope({ x: {}, relay_host: 'a', pkgs: [1] }, { env: {} });
    expect(() => renderString(t, scope)).toThrow(TemplateError);
  });

  it('a YAML key named __proto__ is plain data, not the prototype', () => {
    const data = JSON.parse('{"__proto__": {"polluted": "yes"}}');
    expect(renderString('{{ d.__proto__.polluted }}', { d: data })).toBe('yes');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('evaluateCondition', () => {
  it.each([
    ['flag', true],
    ['not flag', false],
    ["relay_host == 'smtp.gmail.com'", true],
    ['relay_port != 587', false],
    ['relay_port > 25 and relay_port < 1000', true],
    ["'postfix' in pkgs", true],
    ["'exim' not in pkgs", true],
    ['missing is defined', false],
    ['missing is not defined or flag', true],
    ['empty', false],
    ['{{ flag }}', true],
    ['flag and (relay_port == 25 or relay_port == 587)', true],
  ] as const)('%s → %s', (expr, expected) => {
    expect(evaluateCondition(expr, vars)).toBe(expected);
  });

  it('is strict about undefined variables', () => {
    expect(() => evaluateCondition('relay_enabled', vars, pos)).toThrow('site.yaml:7:12: undefined variable "relay_enabled"');
  });
});

describe('VarScope.track', () => {
  it('reports the variables a render read, through other variables too', () => {
    const scope = new VarScope({ a: '{{ b }}-x', b: '{{ c | upper }}', c: 'low', d: 'unused' });
    const first = scope.track(() => scope.render('{{ a }}!'));
    expect(first.value).toBe('LOW-x!');
    expect([...first.reads].sort()).toEqual(['a', 'b', 'c']);
    // Once resolved, a variable is cached, and its sources are still reported.
    const again = scope.track(() => scope.render('{{ a }}'));
    expect([...again.reads].sort()).toEqual(['a', 'b', 'c']);
    expect(scope.track(() => scope.render('plain')).reads.size).toBe(0);
    expect([...scope.sourcesOf('b')]).toEqual(['c']);
  });

  it('keeps nested frames apart', () => {
    const scope = new VarScope({ x: 1, y: 2 });
    const outer = scope.track(() => {
      const inner = scope.track(() => scope.render('{{ y }}'));
      expect([...inner.reads]).toEqual(['y']);
      return scope.render('{{ x }}');
    });
    expect([...outer.reads]).toEqual(['x']);
  });
});

describe('VarScope.renderLeaves', () => {
  it('renders like render and lists each templated leaf with where it is and what it read', () => {
    const scope = new VarScope({ pkgs: ['a', 'b'], pw: 'hunter22', cred: 'u:{{ pw }}' });
    const value = { name: ['x', '{{ pkgs[1] }}'], content: '{{ cred | upper }}', mode: '0600' };
    const { value: out, leaves } = scope.renderLeaves(value);
    expect(out).toEqual(new VarScope({ pkgs: ['a', 'b'], pw: 'hunter22', cred: 'u:{{ pw }}' }).render(value));
    expect(leaves.map((l) => [l.path, l.value, [...l.reads].sort()])).toEqual([
      [['name', 1], 'b', ['pkgs']],
      [['content'], 'U:HUNTER22', ['cred', 'pw']],
    ]);
  });
});
