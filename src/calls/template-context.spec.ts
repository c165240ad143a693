import { declaredContext, emptyVariables, templateContextOf } from './template-context';

describe("a call's templateContext and the agent's context schema", () => {
  const context = templateContextOf({
    phoneNumber: '+15551230000',
    name: 'Ada',
    email: null,
    metadata: { plan: 'gold', city: ' ', score: 7, nested: { a: 1 } },
  });

  it('holds phone, name, email when known, and the string values of metadata', () => {
    expect(context).toEqual({ phone: '+15551230000', name: 'Ada', plan: 'gold', city: ' ' });
  });

  it('keeps only the declared keys when the agent declares a schema, everything when it does not', () => {
    expect(declaredContext(context, ['name', 'plan', 'email'])).toEqual({ name: 'Ada', plan: 'gold' });
    expect(declaredContext(context, [])).toEqual({});
    expect(declaredContext(context, null)).toBe(context);
  });

  it('reports the declared variables left absent or blank, in the declared order', () => {
    expect(emptyVariables(context, ['city', 'email', 'name', 'plan'])).toEqual(['city', 'email']);
    expect(emptyVariables(context, null)).toEqual([]);
  });
});
