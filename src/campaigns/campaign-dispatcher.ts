import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { campaignRetryOutcome } from '../calls/call-outcome';
import { CallsService } from '../calls/calls.service';
import { CallTransitions } from '../calls/lifecycle/call-transitions.service';
import { CallingWindow } from '../common/calling-window/calling-window';
import { nextOpening } from '../common/calling-window/next-opening';
import { Clock } from '../common/clock';
import { PeriodicTask } from '../common/periodic-task';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import type { Tx } from '../database/sql';
import { DncService } from '../dnc/dnc.service';
import { Emit, WebhookOutbox } from '../webhooks/delivery/webhook-outbox.service';
import { CampaignSettings, readCampaignSettings, RetryPolicy } from './campaign-settings';
import { CampaignsRepository, TickCampaign } from './campaigns.repository';
import { CampaignsService } from './campaigns.service';
import { ContactSettlement, ContactsRepository } from './contacts/contacts.repository';

/** A pass ticks at most this many campaigns; the next pass goes on after the last one. */
const CAMPAIGNS_PER_PASS = 100;
const FROM_THE_START = '00000000-0000-0000-0000-000000000000';
/** A tick after a call ended finds the campaign busy (another tick, a pause): how often to try again. */
const BUSY_RETRIES = 3;
const BUSY_RETRY_DELAY_MS = 50;

/**
 * Moves running campaigns along, one short transaction per campaign under its try-lock: settles
 * contacts whose call ended (retrying as the campaign says), dials the next contacts up to
 * max_concurrency inside the calling window, and finishes the campaign when no contact is left. A
 * contact's call is created in the same transaction that marks it in progress, so a crash can never
 * dial one attempt twice nor strand a contact. A campaign whose lock is taken is skipped: whoever
 * holds it is ticking it, or pausing or canceling it.
 */
@Injectable()
export class CampaignDispatcher extends PeriodicTask implements OnModuleInit {
  protected readonly logger = new Logger(CampaignDispatcher.name);
  /** Campaigns with a tick under way from `tickSoon`, and those asked for another one meanwhile. */
  private readonly ticking = new Map<string, Promise<void>>();
  private readonly tickAgain = new Set<string>();
  /** Where the next periodic pass starts (campaign id order). */
  private cursor = FROM_THE_START;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly campaignRows: CampaignsRepository,
    private readonly contacts: ContactsRepository,
    private readonly outbox: WebhookOutbox,
    private readonly calls: CallsService,
    private readonly campaigns: CampaignsService,
    private readonly clock: Clock,
    private readonly dnc: DncService,
    private readonly transitions: CallTransitions,
  ) {
    super();
  }

  onModuleInit(): void {
    this.transitions.onCampaignCallEnded(({ campaignId }) => void this.tickSoon(campaignId));
  }

  /** Waits for the periodic pass and for the ticks after ended calls that are under way. */
  override async onModuleDestroy(): Promise<void> {
    await super.onModuleDestroy();
    await Promise.all(this.ticking.values());
  }

  /**
   * A tick of one campaign now, because one of its calls ended: its contact is settled and the freed
   * slot dialed without waiting for the periodic tick. Requests arriving while a tick runs coalesce
   * into one more tick; a failure is logged and left to the periodic tick.
   */
  tickSoon(campaignId: string): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const running = this.ticking.get(campaignId);
    if (running) {
      this.tickAgain.add(campaignId);
      return running;
    }
    const ticks = this.tickUntilSettled(campaignId).finally(() => {
      this.ticking.delete(campaignId);
      this.tickAgain.delete(campaignId);
    });
    this.ticking.set(campaignId, ticks);
    return ticks;
  }

  private async tickUntilSettled(campaignId: string): Promise<void> {
    try {
      let busy = 0;
      do {
        this.tickAgain.delete(campaignId);
        if (await this.tick(campaignId)) {
          busy = 0;
          continue;
        }
        if (++busy > BUSY_RETRIES) return;
        this.tickAgain.add(campaignId);
        await sleep(BUSY_RETRY_DELAY_MS);
      } while (this.tickAgain.has(campaignId) && !this.stopping);
    } catch (err) {
      this.logger.warn({
        msg: 'campaign tick after a call ended failed',
        campaignId,
        err: (err as Error).message,
      });
    }
  }

  protected intervalMs(): number {
    return this.config.campaigns.tickIntervalMs;
  }

  /** Up to CAMPAIGNS_PER_PASS campaigns, each one's failure logged without stopping the others. */
  protected async runOnce(): Promise<void> {
    const ids = await this.campaignRows.activeAfter(this.cursor, CAMPAIGNS_PER_PASS);
    this.cursor = ids.length === CAMPAIGNS_PER_PASS ? ids[ids.length - 1] : FROM_THE_START;
    for (const id of ids) {
      if (this.stopping) return;
      await this.isolated('campaign tick', { campaignId: id }, () => this.tick(id));
    }
  }

  /** One tick of the campaign; false when its lock was taken and nothing was done. */
  async tick(campaignId: string): Promise<boolean> {
    const dialed = await this.outbox.transaction(async (tx, emit) => {
      if (!(await this.campaignRows.tryLock(tx, campaignId))) return null;
      // A canceled campaign is ticked only when one of its calls that was already live ends (tickSoon):
      // its contact is settled, never retried.
      const campaign = await this.campaignRows.forTick(tx, campaignId);
      if (!campaign) return [];
      const settings = readCampaignSettings(campaign);
      await this.settle(tx, campaign, settings.retry);
      if (campaign.status === 'canceled') return [];
      const calls =
        campaign.status === 'running' ? await this.dispatchOrPause(tx, emit, campaign, settings) : [];
      if (await this.campaignRows.transition(tx, campaign.id, 'finish', new Date())) {
        await this.campaigns.emitCampaignEvent(tx, emit, campaign.id, 'campaign.finished');
      }
      return calls;
    });
    if (dialed === null) return false;
    // Together, so that they share one addBulk (CallsService batches the enqueues of an event-loop turn).
    await Promise.all(dialed.map((callId) => this.calls.enqueueDial(callId, null)));
    return true;
  }

  /**
   * Dials when every setting holds. A setting stored invalid pauses this campaign (campaign.paused,
   * `paused_reason` saying what to fix) and dials nothing; the pass goes on with the other campaigns.
   */
  private async dispatchOrPause(
    tx: Tx,
    emit: Emit,
    campaign: TickCampaign,
    settings: CampaignSettings,
  ): Promise<string[]> {
    if (settings.invalid === null) return this.dispatch(tx, campaign, settings.window);
    if (await this.campaigns.pauseLocked(tx, emit, campaign.id, settings.invalid)) {
      this.logger.warn({
        msg: 'campaign paused: a setting is stored invalid',
        campaignId: campaign.id,
        agencyId: campaign.agencyId,
        reason: settings.invalid,
      });
    }
    return [];
  }

  /** Contacts whose call has ended: done, failed, or back to pending for a retry after the delay. */
  private async settle(tx: Tx, campaign: TickCampaign, retryPolicy: RetryPolicy): Promise<void> {
    const now = this.clock.now().getTime();
    const settled = (await this.contacts.ended(tx, campaign.id)).map((contact): ContactSettlement => {
      const outcome =
        contact.callStatus === 'completed'
          ? 'completed'
          : campaignRetryOutcome(contact.failureReason ?? 'failed');
      const retry =
        outcome !== 'completed' &&
        campaign.status !== 'canceled' &&
        retryPolicy.on.includes(outcome) &&
        contact.attempts < retryPolicy.maxAttempts;
      return {
        id: contact.id,
        status: outcome === 'completed' ? 'completed' : retry ? 'pending' : 'failed',
        outcome,
        nextAttemptAt: new Date(now + (retry ? retryPolicy.delayMs : 0)),
      };
    });
    await this.contacts.settle(tx, settled);
  }

  /** Creates calls for the next due contacts, up to max_concurrency live ones, inside the calling window. */
  private async dispatch(tx: Tx, campaign: TickCampaign, window: CallingWindow | null): Promise<string[]> {
    const agentId = campaign.agentId;
    if (!agentId) return [];
    const now = this.clock.now();
    if (window && nextOpening(window, now) !== null) return [];
    const free = campaign.maxConcurrency - (await this.contacts.countLive(tx, campaign.id));
    if (free <= 0) return [];
    const due = await this.contacts.claimDue(tx, campaign.id, now, free);
    const listed = await this.dnc.listedAmong(
      campaign.agencyId,
      due.map((c) => c.phoneNumber),
      tx,
    );
    await this.contacts.skipListed(
      tx,
      due.filter((c) => listed.has(c.phoneNumber)).map((c) => c.id),
    );
    const contacts = due.filter((c) => !listed.has(c.phoneNumber));
    const calls = await this.calls.createCalls(
      tx,
      contacts.map((contact) => ({
        agencyId: campaign.agencyId,
        agentId,
        campaignId: campaign.id,
        phoneNumber: contact.phoneNumber,
        name: contact.name,
        email: contact.email,
        metadata: contact.variables,
        scheduledFor: null,
        record: campaign.record,
        note: `campaign "${campaign.name}", contact row ${contact.rowNumber}, attempt ${contact.attempts + 1}`,
      })),
    );
    await this.contacts.markDialed(
      tx,
      contacts.map((contact, i) => ({ contactId: contact.id, callId: calls[i].id })),
    );
    return calls.map((call) => call.id);
  }
}
