import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CallingWindow } from './calling-window';
import { CallingWindowDto, OptionalNested } from './calling-window.dto';
import { governingWindow, InvalidSetting, InvalidWindow, parseStoredWindow } from './stored-window';

const office: CallingWindow = {
  timezone: 'America/New_York',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '17:00',
};

/** A body holding a window the way every route that stores one takes it. */
class Holder {
  @OptionalNested(() => CallingWindowDto)
  calling_window?: CallingWindowDto | null;
}

/** What the routes would have answered for this value: true when they would have stored it. */
async function routesAccept(value: unknown): Promise<boolean> {
  const errors = await validate(plainToInstance(Holder, { calling_window: value }), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  return errors.length === 0;
}

const STORED: Array<[string, unknown, string | null]> = [
  ['an office window', office, null],
  ['an overnight window', { ...office, days: ['fri'], start: '20:00', end: '02:00' }, null],
  ['UTC', { ...office, timezone: 'UTC' }, null],
  ['an empty array (stored by PATCH before validation refused it)', [], 'must be an object'],
  ['an empty object', {}, 'timezone'],
  ['a string', 'weekdays', 'must be an object'],
  ['a number', 3, 'must be an object'],
  ['an unknown time zone', { ...office, timezone: 'Mars/Olympus_Mons' }, 'timezone'],
  ['a zone name without a region', { ...office, timezone: 'EST' }, 'timezone'],
  ['a time zone that is not a string', { ...office, timezone: 5 }, 'timezone'],
  ['days not an array', { ...office, days: 'mon' }, 'days must be an array'],
  ['no days', { ...office, days: [] }, 'days'],
  ['an unknown day', { ...office, days: ['mon', 'funday'] }, 'days must contain only'],
  ['a day twice', { ...office, days: ['mon', 'mon'] }, 'unique'],
  ['start 25:99', { ...office, start: '25:99' }, 'start must be HH:MM'],
  ['end 24:00', { ...office, end: '24:00' }, 'end must be HH:MM'],
  ['start missing', { timezone: office.timezone, days: office.days, end: '17:00' }, 'start'],
  ['start == end', { ...office, end: '09:00' }, 'end must differ from start'],
  ['an extra field', { ...office, note: 'x' }, 'note is not an accepted field'],
];

describe('parseStoredWindow', () => {
  it.each(STORED)('%s: the same verdict as the routes that store windows', async (_, stored, problem) => {
    const parsed = parseStoredWindow(stored);
    expect(parsed instanceof InvalidSetting).toBe(problem !== null);
    expect(await routesAccept(stored)).toBe(problem === null);
    if (problem === null) expect(parsed).toEqual(stored);
    else expect((parsed as InvalidSetting).problem).toContain(problem);
  });

  it('reads SQL NULL and JSON null as no window', () => {
    expect(parseStoredWindow(null)).toBeNull();
    expect(parseStoredWindow(undefined)).toBeNull();
  });
});

describe('governingWindow', () => {
  const london: CallingWindow = { ...office, timezone: 'Europe/London' };

  it('takes the first owner that has a window', () => {
    expect(
      governingWindow([
        ['agent', office],
        ['agency', london],
      ]),
    ).toEqual(office);
    expect(
      governingWindow([
        ['agent', null],
        ['agency', london],
      ]),
    ).toEqual(london);
    expect(
      governingWindow([
        ['campaign', null],
        ['agent', null],
        ['agency', null],
      ]),
    ).toBeNull();
  });

  it('names the owner whose governing window is invalid', () => {
    const broken = governingWindow([
      ['agent', null],
      ['agency', []],
    ]);
    expect(broken).toBeInstanceOf(InvalidWindow);
    expect(broken).toMatchObject({ owner: 'agency', problem: 'calling_window must be an object' });
    expect(
      governingWindow([
        ['agent', { ...office, start: '25:99' }],
        ['agency', london],
      ]),
    ).toMatchObject({
      owner: 'agent',
    });
  });

  it('ignores an invalid window that does not govern', () => {
    expect(
      governingWindow([
        ['agent', office],
        ['agency', {}],
      ]),
    ).toEqual(office);
  });
});
