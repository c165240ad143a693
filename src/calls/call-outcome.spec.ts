import {
  UltravoxCallView,
  UltravoxMessage,
  campaignRetryOutcome,
  classifyEnd,
  durationSeconds,
  mapTranscript,
  parseDuration,
  sentimentOf,
} from './call-outcome';

// Shaped like the simulator's answered scenario (tools/ultravox-sim/scenarios.ts), inlined because
// src/ never imports the simulator.
function message(role: string, text: string, index: number, start?: string): UltravoxMessage {
  const base = { role, text, medium: 'MESSAGE_MEDIUM_VOICE', callStageMessageIndex: index };
  return start === undefined ? base : { ...base, timespan: { start, end: '99.000s' } };
}
const answeredMessages: UltravoxMessage[] = [
  message('MESSAGE_ROLE_AGENT', 'Hi Ada, this is Sim Agent calling. Do you have a minute?', 0),
  message('MESSAGE_ROLE_USER', 'Yes, sure, I have a minute. That sounds great!', 1, '1.200s'),
  message('MESSAGE_ROLE_TOOL_CALL', '{"customerName":"Ada","turn":1}', 2, '4.750s'),
  message('MESSAGE_ROLE_TOOL_RESULT', '{"appointment":"Tuesday 10:00"}', 3, '5.350s'),
  message('MESSAGE_ROLE_AGENT', 'You are booked for Tuesday at 10am. Does that work?', 4, '5.950s'),
];

const joined = '2026-03-02T10:00:00.000Z';

function call(fields: Partial<UltravoxCallView>): UltravoxCallView {
  return { callId: '7b0e4c1a-0000-4000-8000-000000000001', ...fields };
}

describe('parseDuration', () => {
  it.each([
    ['12s', 12],
    ['1.200s', 1.2],
    ['164.5s', 164.5],
    ['0s', 0],
    ['.5s', 0.5],
    [' 30s ', 30],
    ['-1.5s', -1.5],
    ['90', 90],
  ])('reads %j as %d seconds', (input, expected) => expect(parseDuration(input)).toBe(expected));

  it.each([null, undefined, '', 's', 'abc', '12m', '1h2s', '1.2.3s', 'NaNs', 'Infinitys'])(
    'answers null for %j',
    (input) => expect(parseDuration(input)).toBeNull(),
  );
});

describe('mapTranscript', () => {
  it('keeps agent and user turns in order, drops tool calls and results, dates turns joined + start', () => {
    expect(mapTranscript(answeredMessages, new Date(joined))).toEqual([
      { role: 'agent', content: answeredMessages[0].text, timestamp: joined },
      { role: 'human', content: answeredMessages[1].text, timestamp: '2026-03-02T10:00:01.200Z' },
      { role: 'agent', content: answeredMessages[4].text, timestamp: '2026-03-02T10:00:05.950Z' },
    ]);
  });

  it('dates an initial message (neither offset) at joined', () => {
    expect(answeredMessages[0].timespan).toBeUndefined();
    expect(mapTranscript(answeredMessages, new Date(joined))[0].timestamp).toBe(joined);
  });

  it('dates a turn by its wall-clock offset from joined, not by the audio stream offset', () => {
    const drifting: UltravoxMessage = {
      role: 'MESSAGE_ROLE_USER',
      text: 'Yes, Tuesday works.',
      timespan: { start: '42.500s', end: '45.000s' },
      wallClockTimespan: { start: '3.250s', end: '4.000s' },
    };
    const ended = new Date('2026-03-02T10:00:10.000Z');
    expect(mapTranscript([drifting], new Date(joined), ended)[0].timestamp).toBe('2026-03-02T10:00:03.250Z');
  });

  it('falls back to the audio offset, kept between joined and ended when it drifts past either', () => {
    const ended = new Date('2026-03-02T10:00:10.000Z');
    const transcript = mapTranscript(
      [
        { role: 'MESSAGE_ROLE_USER', text: 'Early', timespan: { start: '2s' } },
        { role: 'MESSAGE_ROLE_AGENT', text: 'Drifted', timespan: { start: '25s' } },
        { role: 'MESSAGE_ROLE_AGENT', text: 'Skewed', wallClockTimespan: { start: '-1s' } },
      ],
      new Date(joined),
      ended,
    );
    expect(transcript.map((t) => t.timestamp)).toEqual([
      '2026-03-02T10:00:02.000Z',
      ended.toISOString(),
      joined,
    ]);
  });

  it('gives null timestamps when the join time is unknown or invalid', () => {
    for (const joinedAt of [null, new Date('not a date')]) {
      expect(mapTranscript(answeredMessages, joinedAt).map((t) => t.timestamp)).toEqual([null, null, null]);
    }
  });

  it('dates a turn at joined when its offsets are null or unparseable', () => {
    const transcript = mapTranscript(
      [
        { role: 'MESSAGE_ROLE_USER', text: 'Hello?', timespan: null, wallClockTimespan: null },
        { role: 'MESSAGE_ROLE_USER', text: 'Anyone?', timespan: { end: '2s' } },
        {
          role: 'MESSAGE_ROLE_USER',
          text: 'Hi',
          wallClockTimespan: { start: 'soon' },
          timespan: { start: '1s' },
        },
      ],
      new Date(joined),
    );
    expect(transcript.map((t) => t.timestamp)).toEqual([joined, joined, '2026-03-02T10:00:01.000Z']);
  });

  it('drops turns with empty, blank, null or missing text and trims the rest', () => {
    const transcript = mapTranscript(
      [
        { role: 'MESSAGE_ROLE_AGENT', text: '' },
        { role: 'MESSAGE_ROLE_USER', text: '   ' },
        { role: 'MESSAGE_ROLE_USER', text: null },
        { role: 'MESSAGE_ROLE_AGENT' },
        { role: 'MESSAGE_ROLE_USER', text: '  Okay.  ' },
      ],
      null,
    );
    expect(transcript).toEqual([{ role: 'human', content: 'Okay.', timestamp: null }]);
  });

  it('drops unknown roles and ignores unknown fields', () => {
    const fromNewerApi = {
      role: 'MESSAGE_ROLE_AGENT',
      text: 'Goodbye!',
      toolName: null,
      errorDetails: { code: 1 },
      timespan: { start: '2s', end: '3s', confidence: 0.9 },
    };
    const transcript = mapTranscript(
      [{ role: 'MESSAGE_ROLE_SYSTEM', text: 'stage change' }, fromNewerApi],
      new Date(joined),
    );
    expect(transcript).toEqual([
      { role: 'agent', content: 'Goodbye!', timestamp: '2026-03-02T10:00:02.000Z' },
    ]);
  });

  it('answers an empty transcript for no messages', () => {
    expect(mapTranscript([], new Date(joined))).toEqual([]);
  });
});

describe('sentimentOf', () => {
  const agent = (content: string) => ({ role: 'agent', content });
  const human = (content: string) => ({ role: 'human', content });

  it.each([
    [
      'positive',
      'a happy',
      ['Yes, sure, I have a minute. That sounds great!', 'Perfect, thank you so much!'],
    ],
    ['negative', 'an angry', ['No. I am not interested, this is annoying.', 'Terrible service, I am angry.']],
    ['neutral', 'a matter-of-fact', ['Who is this?', 'Okay. Tuesday at ten.', 'I will call back.']],
  ])('is %s for %s customer', (expected, _who, lines) => {
    expect(sentimentOf([agent('Do you have a minute?'), ...lines.map(human)])).toBe(expected);
  });

  it('stays neutral when one mild word is lost in a long conversation', () => {
    const plain = 'I need to check the calendar at home and see when my brother is in town this month';
    expect(sentimentOf([human(plain), human(plain), human(`${plain}, no.`)])).toBe('neutral');
  });

  it('ignores agent turns: a furious agent does not make a calm customer negative', () => {
    expect(
      sentimentOf([
        agent('This is outrageous, you idiots are useless, I hate this terrible awful mess!'),
        human('Okay. Tuesday at ten.'),
      ]),
    ).toBe('neutral');
  });

  it('ignores agent turns: a cheerful agent does not make an angry customer positive', () => {
    expect(
      sentimentOf([
        agent('Wonderful! Great! Fantastic! I love it, thank you so much, perfect!'),
        human('This is terrible service, I am very unhappy and angry.'),
      ]),
    ).toBe('negative');
  });

  it('does not carry a negation across turns', () => {
    // Read as one text, "not good" would be negated into a negative score.
    expect(sentimentOf([human('I am not'), human('Good, that works.')])).toBe('positive');
  });

  it('is null without human turns', () => {
    expect(sentimentOf([])).toBeNull();
    expect(sentimentOf([agent('Hello? Is anyone there? Great, goodbye.')])).toBeNull();
    expect(sentimentOf([human('   ')])).toBeNull();
  });
});

describe('durationSeconds', () => {
  it('rounds ended − joined to whole seconds', () => {
    const ended = '2026-03-02T10:02:44.600Z';
    expect(durationSeconds(call({ joined, ended, billedDuration: '999s' }))).toBe(165);
  });

  it('falls back to billedDuration, rounded, when join or end is missing', () => {
    expect(durationSeconds(call({ joined, ended: null, billedDuration: '164.4s' }))).toBe(164);
    expect(durationSeconds(call({ joined: null, billedDuration: '0s' }))).toBe(0);
    expect(durationSeconds(call({ ended: joined, billedDuration: '1.200s' }))).toBe(1);
  });

  it('falls back to billedDuration when a timestamp is unparseable', () => {
    expect(durationSeconds(call({ joined: 'yesterday', ended: joined, billedDuration: '7s' }))).toBe(7);
  });

  it('is never negative', () => {
    const ended = '2026-03-02T09:59:50.000Z';
    expect(durationSeconds(call({ joined, ended, billedDuration: '12s' }))).toBe(12);
    expect(durationSeconds(call({ joined, ended }))).toBeNull();
    expect(durationSeconds(call({ billedDuration: '-3s' }))).toBe(0);
  });

  it('is null when nothing is known', () => {
    expect(durationSeconds(call({}))).toBeNull();
    expect(durationSeconds(call({ billedDuration: 'unknown' }))).toBeNull();
  });
});

describe('classifyEnd', () => {
  const ended = '2026-03-02T10:01:00.000Z';

  it.each(['hangup', 'agent_hangup', 'timeout', 'connection_error', 'system_error', null, 'new_reason'])(
    'a joined call ending with %j is completed',
    (endReason) => expect(classifyEnd(call({ joined, ended, endReason }))).toEqual({ outcome: 'completed' }),
  );

  it.each([
    ['unjoined', 'SIP_TERMINATION_BUSY', 'busy'],
    ['unjoined', 'SIP_TERMINATION_INVALID_NUMBER', 'invalid_number'],
    ['unjoined', 'SIP_TERMINATION_TIMEOUT', 'no_answer'],
    ['unjoined', 'SIP_TERMINATION_SOMETHING_NEW', 'no_answer'],
    ['unjoined', null, 'no_answer'],
    ['connection_error', null, 'connection_error'],
    ['connection_error', 'SIP_TERMINATION_BUSY', 'connection_error'],
    ['system_error', null, 'system_error'],
    ['hangup', null, 'not_connected'],
    ['agent_hangup', null, 'not_connected'],
    ['timeout', null, 'not_connected'],
    ['reason_from_the_future', null, 'not_connected'],
    [null, null, 'not_connected'],
  ])(
    'a call never joined, ended %j with SIP %j, fails as %s',
    (endReason, terminationReason, failureReason) => {
      const view = call({ joined: null, ended, endReason, sipDetails: { terminationReason } });
      expect(classifyEnd(view)).toEqual({ outcome: 'failed', failureReason });
    },
  );

  it('reads a missing sipDetails or an empty join time as not joined', () => {
    expect(classifyEnd(call({ endReason: 'unjoined' }))).toEqual({
      outcome: 'failed',
      failureReason: 'no_answer',
    });
    expect(classifyEnd(call({ joined: '', endReason: 'unjoined', sipDetails: null }))).toEqual({
      outcome: 'failed',
      failureReason: 'no_answer',
    });
  });

  it('ignores unknown fields of a newer Call object', () => {
    const fromNewerApi = {
      callId: 'c1',
      created: '2026-03-02T09:59:50.000Z',
      joined: null,
      ended,
      endReason: 'unjoined',
      billingStatus: 'BILLING_STATUS_FREE_ZERO_EFFECTIVE_DURATION',
      sipDetails: { terminationReason: 'SIP_TERMINATION_BUSY', sipCallId: 'abc', code: 486 },
      experimentalSettings: { anything: [1, 2, 3] },
    };
    expect(classifyEnd(fromNewerApi)).toEqual({ outcome: 'failed', failureReason: 'busy' });
    expect(durationSeconds(fromNewerApi)).toBeNull();
  });
});

describe('campaignRetryOutcome', () => {
  it.each([
    ['no_answer', 'no_answer'],
    ['busy', 'busy'],
    ['invalid_number', 'failed'],
    ['connection_error', 'failed'],
    ['system_error', 'failed'],
    ['not_connected', 'failed'],
    ['something_else', 'failed'],
  ])('maps %s to %s', (reason, expected) => expect(campaignRetryOutcome(reason)).toBe(expected));
});
