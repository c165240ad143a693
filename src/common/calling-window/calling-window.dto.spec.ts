import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CallingWindowDto } from './calling-window.dto';

const normal = {
  timezone: 'America/New_York',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '17:00',
};

async function errors(plain: object): Promise<Record<string, string[]>> {
  const found = await validate(plainToInstance(CallingWindowDto, plain));
  return Object.fromEntries(found.map((e) => [e.property, Object.values(e.constraints ?? {})]));
}

describe('CallingWindowDto', () => {
  it('accepts a normal window', async () => {
    expect(await errors(normal)).toEqual({});
  });

  it('accepts an overnight window (end before start)', async () => {
    expect(await errors({ ...normal, days: ['fri'], start: '20:00', end: '02:00' })).toEqual({});
  });

  it('rejects start == end', async () => {
    expect(await errors({ ...normal, end: '09:00' })).toEqual({
      end: ['end must differ from start (end before start means an overnight window)'],
    });
  });

  it('rejects an unknown time zone', async () => {
    expect(Object.keys(await errors({ ...normal, timezone: 'Mars/Olympus_Mons' }))).toEqual(['timezone']);
  });

  it('rejects an unknown day', async () => {
    expect(await errors({ ...normal, days: ['mon', 'funday'] })).toEqual({
      days: ['days must contain only mon, tue, wed, thu, fri, sat, sun'],
    });
  });

  it('rejects 24:00', async () => {
    expect(await errors({ ...normal, end: '24:00' })).toEqual({ end: ['end must be HH:MM (24 h)'] });
  });
});
