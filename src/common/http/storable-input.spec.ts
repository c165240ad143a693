import { findUnstorableInput, isUnstorableText, MAX_JSON_DEPTH, storableText } from './storable-input';

const deep = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};

describe('isUnstorableText', () => {
  it.each([
    ['', false],
    ['plain', false],
    ['é 🌸 \u2028 \uFFFD', false],
    ['\ud83c\udf38', false],
    ['a\u0000b', true],
    ['\u0000', true],
    ['\ud800', true],
    ['x\udc00', true],
    ['\udf38\ud83c', true],
  ])('%j → %s', (text, unstorable) => {
    expect(isUnstorableText(text)).toBe(unstorable);
  });
});

describe('storableText', () => {
  it('replaces NUL characters and unpaired surrogates with U+FFFD and keeps everything else', () => {
    expect(storableText('a\u0000b\ud800c\udfffd')).toBe('a\uFFFDb\uFFFDc\uFFFDd');
    expect(storableText('emoji 😀 and ü stay')).toBe('emoji 😀 and ü stay');
    expect(isUnstorableText(storableText('\u0000\ud83d'))).toBe(false);
  });
});

describe('findUnstorableInput', () => {
  it.each([
    [{ name: 'ok', n: 1, b: true, z: null, list: ['a', { b: 'c' }] }, null],
    [null, null],
    [undefined, null],
    [{ name: 'a\u0000' }, 'name'],
    [{ metadata: { crm: { note: 'x\ud800' } } }, 'metadata.crm.note'],
    [{ metadata: { 'bad\u0000key': 1 } }, 'metadata'],
    [[{ phone: '+1' }, { phone: '\u0000' }], '[1].phone'],
    ['\u0000', 'body'],
    [{ 'k\ud800': 1 }, 'body'],
  ])('%j → %s', (value, field) => {
    expect(findUnstorableInput(value)?.field ?? null).toBe(field);
  });

  it('reports the first problem in document order', () => {
    expect(findUnstorableInput({ a: ['ok', 'x\u0000'], b: '\u0000' })?.field).toBe('a[1]');
  });

  it(`allows ${MAX_JSON_DEPTH} levels of nesting and refuses one more, without recursing`, () => {
    expect(findUnstorableInput(deep(MAX_JSON_DEPTH))).toBeNull();
    expect(findUnstorableInput(deep(MAX_JSON_DEPTH + 1))?.message).toMatch(/nested deeper than/);
    expect(findUnstorableInput(deep(1_000_000))?.message).toMatch(/nested deeper than/);
  });

  it('shortens a very long path', () => {
    const detail = findUnstorableInput({ ['k'.repeat(200)]: '\u0000' });
    expect(detail?.field).toHaveLength(81);
    expect(detail?.field.endsWith('…')).toBe(true);
  });
});
