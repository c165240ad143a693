import { MessageRole, Scenario, UltravoxMessage } from './types';

/**
 * The callee number's last four digits pick the scenario (README "Scenarios"); any other number is
 * answered. Suffixes echo familiar codes: 0486 = SIP 486 Busy Here, 0500 = server error.
 */
const SCENARIO_BY_SUFFIX: Record<string, Scenario> = {
  '0000': 'no_answer',
  '0486': 'busy',
  '0500': 'connection_error',
  '0666': 'negative',
  '0999': 'long',
  '0202': 'stages',
  '0303': 'late_summary',
  '0304': 'no_summary',
};

export function scenarioFor(to: string): Scenario {
  return SCENARIO_BY_SUFFIX[to.slice(-4)] ?? 'answered';
}

const JOINING: ReadonlySet<Scenario> = new Set<Scenario>([
  'answered',
  'negative',
  'long',
  'stages',
  'late_summary',
  'no_summary',
]);

export function joins(scenario: Scenario): boolean {
  return JOINING.has(scenario);
}

/** When the summary is written: with the end, some time after it, or never (README "Scenarios"). */
export function summaryTiming(scenario: Scenario): 'at_end' | 'late' | 'never' {
  if (scenario === 'late_summary') return 'late';
  return scenario === 'no_summary' ? 'never' : 'at_end';
}

interface Line {
  role: MessageRole;
  text: string;
  toolName?: string;
  /** The first line of a new call stage (a tool returned a new stage). */
  newStage?: boolean;
}

const tool = (role: MessageRole, text: string): Line => ({ role, text, toolName: 'lookupAppointment' });

function positiveBlock(name: string, turn: number): Line[] {
  return [
    { role: 'MESSAGE_ROLE_USER', text: 'Yes, sure, I have a minute. That sounds great!' },
    { role: 'MESSAGE_ROLE_AGENT', text: `Wonderful. Let me pull up your appointment, ${name}.` },
    tool('MESSAGE_ROLE_TOOL_CALL', JSON.stringify({ customerName: name, turn })),
    tool('MESSAGE_ROLE_TOOL_RESULT', JSON.stringify({ appointment: 'Tuesday 10:00', status: 'scheduled' })),
    { role: 'MESSAGE_ROLE_AGENT', text: 'You are booked for Tuesday at 10am. Does that still work for you?' },
    {
      role: 'MESSAGE_ROLE_USER',
      text: 'Yes, perfect, thank you so much. That is really helpful, I love it.',
    },
  ];
}

function negativeBlock(name: string): Line[] {
  return [
    { role: 'MESSAGE_ROLE_USER', text: 'No. I am not interested, this is annoying and frustrating.' },
    { role: 'MESSAGE_ROLE_AGENT', text: `I am sorry to hear that, ${name}. Let me check your account.` },
    tool('MESSAGE_ROLE_TOOL_CALL', JSON.stringify({ customerName: name, turn: 1 })),
    tool('MESSAGE_ROLE_TOOL_RESULT', JSON.stringify({ appointment: 'Tuesday 10:00', status: 'scheduled' })),
    {
      role: 'MESSAGE_ROLE_AGENT',
      text: 'I see an appointment on Tuesday at 10am. Would you like to keep it?',
    },
    {
      role: 'MESSAGE_ROLE_USER',
      text: 'No, cancel it. This is terrible service, I am very unhappy and angry. Stop calling me.',
    },
  ];
}

/**
 * An agent that changes call stage: its changeStage tool hands the call to a scheduling stage, whose
 * messages Ultravox lists under `mode=last_stage` alone; `mode=in_call` lists both stages.
 */
function stagesLines(name: string): Line[] {
  const stageTool = (role: MessageRole, text: string): Line => ({ role, text, toolName: 'changeStage' });
  return [
    { role: 'MESSAGE_ROLE_USER', text: 'Yes, sure, I have a minute. That sounds great!' },
    { role: 'MESSAGE_ROLE_AGENT', text: `Wonderful, ${name}. Let me bring in our scheduling assistant.` },
    stageTool('MESSAGE_ROLE_TOOL_CALL', JSON.stringify({ stage: 'scheduling' })),
    stageTool('MESSAGE_ROLE_TOOL_RESULT', 'New call stage: scheduling'),
    {
      role: 'MESSAGE_ROLE_AGENT',
      text: `Hello ${name}, scheduling here. You are booked for Tuesday at 10am. Does that still work?`,
      newStage: true,
    },
    { role: 'MESSAGE_ROLE_USER', text: 'Yes, perfect, thank you so much. That is really helpful.' },
    {
      role: 'MESSAGE_ROLE_AGENT',
      text: 'Great, you are all set for Tuesday. Have a wonderful day. Goodbye!',
    },
  ];
}

/** How many times the long scenario repeats the middle of the conversation (10x the default). */
const LONG_CALL_BLOCKS = 10;

function linesFor(scenario: Scenario, name: string): Line[] {
  const greeting: Line = {
    role: 'MESSAGE_ROLE_AGENT',
    text: `Hi ${name}, this is Sim Agent calling from Switchboard. Do you have a minute?`,
  };
  if (scenario === 'stages') return [greeting, ...stagesLines(name)];
  if (scenario === 'negative') {
    const goodbye = 'I understand, and I am sorry for the trouble. I will note that. Goodbye.';
    return [greeting, ...negativeBlock(name), { role: 'MESSAGE_ROLE_AGENT', text: goodbye }];
  }
  const blocks = scenario === 'long' ? LONG_CALL_BLOCKS : 1;
  const middle = Array.from({ length: blocks }, (_, turn) => positiveBlock(name, turn + 1)).flat();
  const goodbye = 'Great, you are all set for Tuesday. Have a wonderful day. Goodbye!';
  return [greeting, ...middle, { role: 'MESSAGE_ROLE_AGENT', text: goodbye }];
}

/**
 * The full transcript of a call that joins. Timespans are call-relative "speech" times derived from word
 * counts, independent of the simulator's timeScale, so billedDuration and timespans agree (and they run
 * longer than the call's wall clock). `stageIds` names the stages in order: the first is the call's own,
 * a line that starts a new stage takes the next one (there must be enough).
 */
export function buildScript(
  scenario: Scenario,
  customerName: string | undefined,
  stageIds: readonly string[],
): UltravoxMessage[] {
  if (!joins(scenario)) return [];
  const name = customerName ?? 'there';
  let clock = 1.2;
  let invocation = 0;
  let stage = 0;
  let indexInStage = 0;
  return linesFor(scenario, name).map((line, index) => {
    if (line.newStage) {
      stage += 1;
      indexInStage = 0;
    }
    const message: UltravoxMessage = {
      role: line.role,
      text: line.text,
      medium: 'MESSAGE_MEDIUM_VOICE',
      callStageId: stageIds[stage],
      callStageMessageIndex: indexInStage++,
    };
    if (line.toolName) {
      if (line.role === 'MESSAGE_ROLE_TOOL_CALL') invocation += 1;
      message.toolName = line.toolName;
      message.invocationId = `sim-invocation-${invocation}`;
    }
    // Simulator convention: the greeting carries neither offset (as initial messages do), so clients
    // meet messages without them; it is still an ordinary message, listed by every mode.
    if (index === 0) return message;
    const seconds = line.toolName ? 0.2 : Math.max(0.8, line.text.split(/\s+/).length * 0.35);
    message.timespan = { start: duration(clock), end: duration(clock + seconds) };
    clock += seconds + 0.4;
    return message;
  });
}

export function billedSeconds(script: readonly UltravoxMessage[]): number {
  const last = script[script.length - 1]?.timespan?.end;
  return last === undefined ? 0 : Math.ceil(Number.parseFloat(last) + 0.5);
}

export function summariesFor(
  scenario: Scenario,
  customerName: string | undefined,
): { shortSummary: string; summary: string } {
  const who = customerName ?? 'The customer';
  if (scenario === 'negative') {
    return {
      shortSummary: `${who} was unhappy and asked not to be called again.`,
      summary: `The agent called ${who} about the Tuesday 10am appointment. ${who} was annoyed, called the service terrible, asked to cancel the appointment and not to be called again. The agent apologised and ended the call.`,
    };
  }
  return {
    shortSummary: `${who} confirmed the Tuesday 10am appointment.`,
    summary: `The agent called ${who} about the Tuesday 10am appointment, looked it up with the lookupAppointment tool and ${who} happily confirmed it. The call ended on a positive note.`,
  };
}

function duration(seconds: number): string {
  return `${seconds.toFixed(3)}s`;
}

/** How many call stages a scenario's script goes through. */
export function stageCount(scenario: Scenario): number {
  return scenario === 'stages' ? 2 : 1;
}
