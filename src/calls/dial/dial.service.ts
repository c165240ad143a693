import { Inject, Injectable, Logger } from '@nestjs/common';
import { AgencySecrets } from '../../agencies/agency-secrets';
import { Agency } from '../../agencies/agency.entity';
import { liveCallCap } from '../../agencies/live-call-cap';
import { Agent } from '../../agents/agent.entity';
import { UltravoxAgentCheck } from '../../agents/ultravox-agent-check';
import { CallingWindow } from '../../common/calling-window/calling-window';
import { governingWindow, InvalidWindow } from '../../common/calling-window/stored-window';
import { Clock } from '../../common/clock';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CreateCallRequest, UltravoxCall, UltravoxClient } from '../../ultravox/ultravox.client';
import { UltravoxError } from '../../ultravox/ultravox.errors';
import { DncService } from '../../dnc/dnc.service';
import { Transactions } from '../../database/transactions';
import { Call, CallStatus } from '../call.entity';
import { CallsRepository } from '../calls.repository';
import { CallTransitions } from '../lifecycle/call-transitions.service';
import { declaredContext, templateContextOf } from '../template-context';

/** Ultravox metadata key carrying our call id: how webhooks and lost creations are matched back. */
export const CALL_ID_METADATA_KEY = 'switchboard_call_id';
/** While the agency is at its live-call cap, a waiting call looks again after this long. */
const AT_CAP_RETRY_MS = 1_000;
/** The statuses a dial job may move to `dialing`. */
const CLAIMABLE: readonly CallStatus[] = ['queued', 'scheduled'];
const MAX_UNAVAILABLE_ATTEMPTS = 10;

type Claim =
  | { kind: 'done' }
  | { kind: 'later'; retryInMs: number }
  | { kind: 'fail'; reason: string; detail?: string }
  | { kind: 'dial'; call: Call; agent: Agent; apiKey: string; from: string };

/** `{ retryInMs }` asks the queue to run the dial job again later; `{}` means done. */
export type DialOutcome = { retryInMs?: number };

const FAILURE_REASONS: Partial<Record<UltravoxError['failure'], string>> = {
  rejected_key: 'ultravox_rejected_key',
  not_found: 'ultravox_agent_not_found',
  bad_request: 'ultravox_rejected_request',
  unexpected: 'ultravox_error',
};

/** Places one call through Ultravox (CONTRACT §7) and decides what happens when that does not work. */
@Injectable()
export class DialService {
  private readonly logger = new Logger(DialService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly calls: CallsRepository,
    private readonly ultravox: UltravoxClient,
    private readonly secrets: AgencySecrets,
    private readonly transitions: CallTransitions,
    private readonly clock: Clock,
    private readonly dnc: DncService,
    private readonly agentCheck: UltravoxAgentCheck,
  ) {}

  async dial(callId: string): Promise<DialOutcome> {
    const claim = await this.claim(callId);
    if (claim.kind === 'done') return {};
    if (claim.kind === 'later') return { retryInMs: claim.retryInMs };
    if (claim.kind === 'fail') {
      await this.transitions.failed(callId, claim.reason, claim.detail ? { endReason: claim.detail } : {});
      return {};
    }
    const { call, agent, apiKey, from } = claim;
    try {
      const checked = await this.agentCheck.forDial(agent, apiKey, this.clock.now());
      if (!checked.known) {
        await this.transitions.failed(call.id, 'ultravox_agent_not_found', { endReason: checked.detail });
        return {};
      }
      const created = await this.ultravox.createCall(
        apiKey,
        agent.ultravoxAgentId,
        this.request(call, agent, from, checked.variables),
      );
      await this.attach(call, created, 'dialed');
      return {};
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      return this.handleFailure(call, apiKey, err);
    }
  }

  /** After a crash or a timeout: was the call placed after all? Looks it up by our metadata. */
  async reconcile(call: Call, apiKey: string): Promise<'placed' | 'not_placed'> {
    const found = await this.ultravox.findCallsByMetadata(apiKey, CALL_ID_METADATA_KEY, call.id);
    if (found.length === 0) return 'not_placed';
    await this.attach(call, found[0], 'dialed (found by metadata after a lost answer)');
    return 'placed';
  }

  private async handleFailure(call: Call, apiKey: string, err: UltravoxError): Promise<DialOutcome> {
    if (err.failure === 'timeout') {
      // Never retried blindly: the call may exist. Look first; if the lookup fails too, the sweeper looks later.
      const found = await this.reconcile(call, apiKey).catch(() => null);
      if (found === 'placed' || found === null) return {};
      return this.release(
        call,
        'dial timed out and Ultravox has no such call',
        this.backoff(call.dialAttempts),
      );
    }
    if (err.failure === 'rate_limited' || err.failure === 'unavailable') {
      if (err.failure === 'unavailable' && call.dialAttempts >= MAX_UNAVAILABLE_ATTEMPTS) {
        await this.transitions.failed(call.id, 'ultravox_unavailable');
        return {};
      }
      return this.release(call, err.message, err.retryAfterMs ?? this.backoff(call.dialAttempts));
    }
    await this.transitions.failed(call.id, FAILURE_REASONS[err.failure] ?? 'ultravox_error', {
      endReason: err.message.slice(0, 500),
    });
    return {};
  }

  private request(
    call: Call,
    agent: Agent,
    from: string,
    declared: readonly string[] | null,
  ): CreateCallRequest {
    return {
      templateContext: declaredContext(templateContextOf(call), declared),
      metadata: { [CALL_ID_METADATA_KEY]: call.id, switchboard_agency_id: call.agencyId },
      medium: {
        [agent.telephonyProvider]: {
          outgoing: { to: call.phoneNumber ?? '', from },
        },
      },
      firstSpeakerSettings: { user: { fallback: { delay: '5s', text: 'Hello?' } } },
      // Always said, false too: the decision stored on the call wins over the Ultravox agent's own setting.
      recordingEnabled: call.recordingEnabled,
    };
  }

  /**
   * queued/scheduled → dialing under a per-agency advisory lock, so the live-call cap holds across
   * workers. Returns the call to dial, a delay, or nothing to do. Everything that can be checked
   * without the lock is checked first: claims of one agency take turns under it, so it is held only
   * for the count-and-mark statement (which writes the timeline row too) and the commit.
   */
  private async claim(callId: string): Promise<Claim> {
    return this.transactions.run(async (tx): Promise<Claim> => {
      const call = await this.calls.findById(tx, callId);
      if (!call || !CLAIMABLE.includes(call.status)) return { kind: 'done' };
      const wait = (call.scheduledFor?.getTime() ?? 0) - this.clock.now().getTime();
      if (wait > 1_000) return { kind: 'later', retryInMs: wait };
      const { agency, agent } = await this.calls.dialParties(tx, call);
      if (!agent) return { kind: 'fail', reason: 'agent_deleted' };
      const from = agent.phoneNumber;
      if (!from) return { kind: 'fail', reason: 'agent_has_no_phone_number' };
      const window = waitedForWindow(call, agent, agency);
      if (window instanceof InvalidWindow) {
        return {
          kind: 'fail',
          reason: 'invalid_calling_window',
          detail: `${window.owner}: ${window.problem}`,
        };
      }
      const apiKeyEncrypted = agency.ultravoxApiKeyEncrypted;
      if (!apiKeyEncrypted) return { kind: 'fail', reason: 'ultravox_not_configured' };
      // Listed after the call was accepted (a scheduled call, a campaign contact waiting its turn).
      if (call.phoneNumber && (await this.dnc.isListed(call.agencyId, call.phoneNumber, tx)))
        return { kind: 'fail', reason: 'number_on_dnc' };
      const attempts = await this.transitions.claimForDial(
        tx,
        call,
        this.clock.now(),
        liveCallCap(agency, this.config.calls.maxConcurrentPerAgency),
      );
      if (attempts === null) {
        // Not claimable any more (a cancel or another worker won), or the agency is at its cap.
        const now = await this.calls.findById(tx, callId);
        if (!now || !CLAIMABLE.includes(now.status)) return { kind: 'done' };
        return { kind: 'later', retryInMs: AT_CAP_RETRY_MS };
      }
      call.dialAttempts = attempts;
      const apiKey = this.secrets.decrypt('ultravox_api_key', agency.id, apiKeyEncrypted);
      return { kind: 'dial', call, agent, apiKey, from };
    });
  }

  /** dialing → queued again (frees the live slot) and dial later. */
  private async release(call: Call, why: string, retryInMs: number): Promise<DialOutcome> {
    const notBefore = new Date(this.clock.now().getTime() + retryInMs);
    await this.transitions.release(call.id, why, notBefore, retryInMs);
    return { retryInMs };
  }

  private async attach(call: Call, created: UltravoxCall, how: string): Promise<void> {
    await this.transitions.attachUltravoxCall(call.id, created.callId, how);
  }

  private backoff(attempts: number): number {
    return Math.min(60_000, 1_000 * 2 ** Math.max(0, attempts - 1));
  }
}

/**
 * A call that waited for its calling window is dialed only while the window that governs it (the
 * agent's, else the agency's) still reads as valid: one stored invalid since the call was accepted
 * leaves nothing to say the callee may be called now, so the call fails (`invalid_calling_window`)
 * rather than ringing at an hour nobody chose. Campaign calls follow their campaign's window (the
 * dispatcher checks it).
 */
function waitedForWindow(call: Call, agent: Agent, agency: Agency): CallingWindow | null | InvalidWindow {
  if (call.status !== 'scheduled' || call.campaignId !== null) return null;
  return governingWindow([
    ['agent', agent.callingWindow],
    ['agency', agency.callingWindow],
  ]);
}
