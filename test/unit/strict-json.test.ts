import t from 'tap';
import { charsetOf, isUtf8Body, MAX_DEPTH, parseStrictJson, StrictJsonError } from '../../api/strict-json.js';

t.test('reads what JSON.parse reads when nothing is ambiguous', async (t) => {
  const bodies = ['{"id":"a","amount":100}', ' [1, -2, 0, "x\\u00e9\\n", true, false, null, {}] ', '{"nested":{"a":[{"b":1}]}}', '"text"', '0'];
  for (const body of bodies) t.same(parseStrictJson(body), JSON.parse(body), body);
});

t.test('refuses a key given twice in one object', async (t) => {
  t.throws(() => parseStrictJson('{"amount":1,"amount":100000}'), { fault: 'duplicate_key' });
  t.throws(() => parseStrictJson('{"a":{"b":1,"b":2}}'), { fault: 'duplicate_key' });
  t.same(parseStrictJson('{"a":{"b":1},"b":2}'), { a: { b: 1 }, b: 2 }, 'the same key in two objects is fine');
});

t.test('refuses numbers with a fraction or an exponent', async (t) => {
  for (const n of ['1.0000000000000001', '1.0', '1e2', '-0.5', '1E+2']) {
    t.throws(() => parseStrictJson(`{"amount":${n}}`), { fault: 'non_integer_number' }, n);
  }
});

t.test('refuses integers it cannot read exactly', async (t) => {
  for (const n of ['9007199254740992', '9007199254740993', '-9007199254740993', '123456789012345678901234567890']) {
    t.throws(() => parseStrictJson(`{"amount":${n}}`), { fault: 'unsafe_integer' }, n);
  }
  t.same(parseStrictJson('[9007199254740991,-9007199254740991]'), [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER], 'the largest exact ones pass');
});

t.test('refuses nesting deeper than MAX_DEPTH, however deep, without exhausting the stack', async (t) => {
  const nest = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  t.same(parseStrictJson(nest(MAX_DEPTH)), JSON.parse(nest(MAX_DEPTH)), 'MAX_DEPTH levels are read');
  for (const depth of [MAX_DEPTH + 1, 16 * 1024]) t.throws(() => parseStrictJson(nest(depth)), { fault: 'too_deep' }, `${depth} levels`);
  t.throws(() => parseStrictJson('{"a":'.repeat(MAX_DEPTH + 1) + '1' + '}'.repeat(MAX_DEPTH + 1)), { fault: 'too_deep' }, 'objects count too');
  t.same(parseStrictJson(`[${nest(MAX_DEPTH - 1)},${nest(MAX_DEPTH - 1)}]`), JSON.parse(`[${nest(MAX_DEPTH - 1)},${nest(MAX_DEPTH - 1)}]`), 'depth, not the count of arrays');
});

t.test('refuses keys that would change the prototype', async (t) => {
  t.throws(() => parseStrictJson('{"__proto__":{"x":1}}'), { fault: 'forbidden_key' });
  t.throws(() => parseStrictJson('{"constructor":{"prototype":{}}}'), { fault: 'forbidden_key' });
});

t.test('refuses malformed JSON with its position', async (t) => {
  for (const body of ['', '{', '{"a":}', '{"a":1,}', '[1,]', '{a:1}', '{"a":1} x', "'a'", '01', '{"a":"\u0001"}', 'tru']) {
    const err = t.throws(() => parseStrictJson(body), StrictJsonError, JSON.stringify(body)) as unknown as StrictJsonError;
    t.equal(err.fault, 'syntax', JSON.stringify(body));
  }
});

t.test('tells the charset a content type names', async (t) => {
  t.equal(charsetOf('application/json'), undefined);
  t.equal(charsetOf('application/json; charset=UTF-16'), 'utf-16');
  t.equal(charsetOf('application/json;charset="iso-8859-1"'), 'iso-8859-1');
  t.ok(isUtf8Body('application/json'));
  t.ok(isUtf8Body('application/json; charset=utf-8'));
  t.ok(isUtf8Body('application/json; charset=UTF8'));
  t.notOk(isUtf8Body('application/json; charset=utf-16'));
  t.notOk(isUtf8Body('application/json; charset=iso-8859-1'));
});
