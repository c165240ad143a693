import type { FastifyInstance } from 'fastify';
import { Scheduler } from './scheduler';
import type { SimState } from './state';
import { billedSeconds, joins, summariesFor, summaryTiming } from './scenarios';
import { SimTimings, SimAccount, SimCall, WebhookEvent, EndReason, UltravoxMessage } from './types';
import { WebhookSender } from './webhook-sender';

const SIP_TERMINATION: Partial<Record<SimCall['scenario'], string>> = {
  no_answer: 'SIP_TERMINATION_TIMEOUT',
  busy: 'SIP_TERMINATION_BUSY',
};

/** What a call is finally billed as, by scenario (joined calls: BILLED). */
const BILLING_STATUS: Partial<Record<SimCall['scenario'], string>> = {
  no_answer: 'BILLING_STATUS_FREE_ZERO_EFFECTIVE_DURATION',
  busy: 'BILLING_STATUS_FREE_ZERO_EFFECTIVE_DURATION',
  connection_error: 'BILLING_STATUS_FREE_SYSTEM_ERROR',
};

/** Plays a created call out on timers: started → (joined → transcript) → ended → billed. */
export class CallRunner {
  constructor(
    private readonly timings: SimTimings,
    private readonly scheduler: Scheduler,
    private readonly sender: WebhookSender,
    private readonly state: SimState,
  ) {}

  /** From now on, calls that finish speaking wait for `releaseEnds` instead of ending. */
  holdEnds(): void {
    this.state.endHold.on = true;
  }

  /** Ends every held call, spread evenly over `spreadMs`, and stops holding; how many were held. */
  releaseEnds(spreadMs: number): number {
    const { waiting } = this.state.endHold;
    const ends = waiting.splice(0);
    this.state.endHold.on = false;
    ends.forEach((end, index) => this.scheduler.after((spreadMs * index) / Math.max(1, ends.length), end));
    return ends.length;
  }

  start(account: SimAccount, sim: SimCall): void {
    // Deferred so the 201 answer leaves before call.started, as with the real service.
    this.scheduler.after(0, () => this.emit(account, sim, 'call.started'));
    switch (sim.scenario) {
      case 'no_answer':
        this.scheduler.after(this.timings.joinTimeoutMs, () => this.end(account, sim, 'unjoined'));
        return;
      case 'busy':
        this.scheduler.after(this.timings.joinDelayMs, () => this.end(account, sim, 'unjoined'));
        return;
      case 'connection_error':
        this.scheduler.after(this.timings.joinDelayMs, () => this.end(account, sim, 'connection_error'));
        return;
      default:
        this.scheduler.after(this.timings.joinDelayMs, () => this.join(account, sim));
    }
  }

  private join(account: SimAccount, sim: SimCall): void {
    sim.phase = 'joined';
    sim.call.joined = new Date().toISOString();
    this.emit(account, sim, 'call.joined');
    this.speak(account, sim);
  }

  /** One transcript message per turn; the initial greeting is "spoken" as the call joins. */
  private speak(account: SimAccount, sim: SimCall): void {
    sim.spoken += 1;
    this.clockIn(sim, sim.script[sim.spoken - 1]);
    if (sim.spoken < sim.script.length) {
      this.scheduler.after(this.timings.turnDelayMs, () => this.speak(account, sim));
    } else if (this.state.endHold.on) {
      this.state.endHold.waiting.push(() => this.end(account, sim, 'hangup'));
    } else {
      this.scheduler.after(this.timings.endDelayMs, () => this.end(account, sim, 'hangup'));
    }
  }

  /**
   * A message just spoken gets its wall-clock offsets from joined (the greeting, like initial
   * messages, has none), ends the one before it, and opens its call stage if it is the stage's first.
   */
  private clockIn(sim: SimCall, message: UltravoxMessage | undefined): void {
    if (!message) return;
    const offset = wallClockOffset(sim);
    const before = sim.script[sim.spoken - 2];
    if (before?.wallClockTimespan) before.wallClockTimespan.end = offset;
    if (message.timespan) message.wallClockTimespan = { start: offset, end: offset };
    if (!sim.stages.some((stage) => stage.callStageId === message.callStageId)) {
      const created = new Date().toISOString();
      sim.stages.push({ callId: sim.call.callId, callStageId: message.callStageId, created });
    }
  }

  private end(account: SimAccount, sim: SimCall, reason: EndReason): void {
    const call = sim.call;
    sim.phase = 'ended';
    sim.spoken = sim.script.length;
    call.ended = new Date().toISOString();
    const last = sim.script[sim.script.length - 1];
    if (last?.wallClockTimespan) last.wallClockTimespan.end = wallClockOffset(sim);
    call.endReason = reason;
    // What Ultravox will bill shows on the ended call already; it is final only with call.billed.
    call.billedDuration = joins(sim.scenario) ? `${billedSeconds(sim.script)}s` : '0s';
    const terminationReason = SIP_TERMINATION[sim.scenario];
    call.sipDetails = terminationReason ? { terminationReason } : null;
    if (joins(sim.scenario)) this.summarise(sim);
    this.emit(account, sim, 'call.ended');
    this.scheduler.after(this.timings.billedDelayMs, () => this.bill(account, sim));
  }

  /** Written with the end, `summaryDelayMs` after it (late_summary), or never (no_summary). */
  private summarise(sim: SimCall): void {
    const write = () => Object.assign(sim.call, summariesFor(sim.scenario, customerName(sim)));
    const timing = summaryTiming(sim.scenario);
    if (timing === 'at_end') write();
    if (timing === 'late') this.scheduler.after(this.timings.summaryDelayMs, write);
  }

  private bill(account: SimAccount, sim: SimCall): void {
    sim.phase = 'billed';
    // A WebRTC call from the console (POST /_sim/console-calls without a caller) is free, as in Ultravox.
    const fromConsole = 'webRtc' in sim.call.medium;
    sim.call.billingStatus = fromConsole
      ? 'BILLING_STATUS_FREE_CONSOLE'
      : (BILLING_STATUS[sim.scenario] ?? 'BILLING_STATUS_BILLED');
    this.emit(account, sim, 'call.billed');
  }

  /** Fire and forget: delivery outcomes are recorded in state, never thrown into a timer. */
  private emit(account: SimAccount, sim: SimCall, event: WebhookEvent): void {
    void this.sender.send(account, sim, event);
  }
}

/** Seconds since the call joined, as a duration string ("3.250s"). */
function wallClockOffset(sim: SimCall): string {
  const joined = sim.call.joined ? Date.parse(sim.call.joined) : Date.now();
  return `${((Date.now() - joined) / 1000).toFixed(3)}s`;
}

export function customerName(sim: SimCall): string | undefined {
  const name = sim.call.templateContext.customerName;
  return typeof name === 'string' && name.trim() !== '' ? name : undefined;
}

/**
 * Calls that end together (bench:lifecycle): `POST /_sim/hold-ends` makes calls that finish speaking
 * wait; `POST /_sim/release-ends {spreadMs?}` ends them all, spread evenly over `spreadMs` (default 0).
 */
export function registerEndHoldRoutes(app: FastifyInstance, runner: CallRunner): void {
  app.post('/_sim/hold-ends', async (_request, reply) => {
    runner.holdEnds();
    return reply.code(204).send();
  });
  app.post<{ Body: unknown }>('/_sim/release-ends', async (request, reply) => {
    const spread = (request.body as { spreadMs?: unknown } | undefined)?.spreadMs ?? 0;
    if (typeof spread !== 'number' || !(spread >= 0)) {
      return reply.code(400).send({ detail: 'spreadMs: must be a non-negative number.' });
    }
    return { released: runner.releaseEnds(spread) };
  });
}
