import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { Agency } from '../agencies/agency.entity';
import { Agent } from '../agents/agent.entity';
import { campaignRetryOutcome } from '../calls/call-outcome';
import { CallsService } from '../calls/calls.service';
import { CallTransitions } from '../calls/lifecycle/call-transitions.service';
import { effectiveWindow, nextOpening } from '../common/calling-window/next-opening';
import { Clock } from '../common/clock';
import { PeriodicTask } from '../common/periodic-task';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { Emit, WebhookOutbox } from '../webhooks/delivery/webhook-outbox.service';
import { DncService } from '../dnc/dnc.service';
import { Campaign, CampaignContact } from './campaign.entity';
import { CampaignsService } from './campaigns.service';
import { lockCampaign } from './campaign-lock';

/**
 * Moves running campaigns along, one short transaction per campaign under its advisory lock: settles
 * contacts whose call ended (retrying as the campaign says), dials the next contacts up to
 * max_concurrency inside the calling window, and finishes the campaign when no contact is left. A
 * contact's call is created in the same transaction that marks it in progress, so a crash can never
 * dial one attempt twice nor strand a contact; every worker may run this at once.
 */
@Injectable()
export class CampaignDispatcher extends PeriodicTask implements OnModuleInit {
  protected readonly logger = new Logger(CampaignDispatcher.name);
  /** Campaigns with a tick under way from `tickSoon`, and those asked for another one meanwhile. */
  private readonly ticking = new Set<string>();
  private readonly tickAgain = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
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

  /**
   * A tick of one campaign now, because one of its calls ended: its contact is settled and the freed
   * slot dialed without waiting for the periodic tick. Requests arriving while a tick runs coalesce
   * into one more tick; a failure is logged and left to the periodic tick.
   */
  async tickSoon(campaignId: string): Promise<void> {
    if (this.ticking.has(campaignId)) {
      this.tickAgain.add(campaignId);
      return;
    }
    this.ticking.add(campaignId);
    try {
      do {
        this.tickAgain.delete(campaignId);
        await this.tick(campaignId);
      } while (this.tickAgain.has(campaignId));
    } catch (err) {
      this.logger.warn({
        msg: 'campaign tick after a call ended failed',
        campaignId,
        err: (err as Error).message,
      });
    } finally {
      this.ticking.delete(campaignId);
      this.tickAgain.delete(campaignId);
    }
  }

  protected intervalMs(): number {
    return this.config.campaigns.tickIntervalMs;
  }

  protected async runOnce(): Promise<void> {
    const active: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM campaigns WHERE status IN ('running', 'paused') ORDER BY started_at`,
    );
    for (const { id } of active) await this.tick(id);
  }

  async tick(campaignId: string): Promise<void> {
    const dialed = await this.outbox.transaction(async (em, emit) => {
      await lockCampaign(em, campaignId);
      // A canceled campaign is ticked only when one of its calls that was already live ends (tickSoon):
      // its contact is settled, never retried.
      const campaign = await em.findOneBy(Campaign, {
        id: campaignId,
        status: In(['running', 'paused', 'canceled']),
      });
      if (!campaign) return [];
      await this.settle(em, campaign);
      if (campaign.status === 'canceled') return [];
      const calls = campaign.status === 'running' ? await this.dispatch(em, campaign) : [];
      await this.finishIfDone(em, emit, campaign);
      return calls;
    });
    // Together, so that they share one addBulk (CallsService batches the enqueues of an event-loop turn).
    await Promise.all(dialed.map((callId) => this.calls.enqueueDial(callId, null)));
  }

  /** Contacts whose call has ended: done, failed, or back to pending for a retry after the delay. */
  private async settle(em: EntityManager, campaign: Campaign): Promise<void> {
    const ended: (CampaignContact & { call_status: string; failure_reason: string | null })[] =
      await em.query(
        `SELECT c.id, c.attempts, k.status AS call_status, k.failure_reason
         FROM campaign_contacts c JOIN calls k ON k.id = c.last_call_id
        WHERE c.campaign_id = $1 AND c.status = 'in_progress' AND k.status IN ('completed', 'failed', 'canceled')`,
        [campaign.id],
      );
    for (const contact of ended) {
      const outcome =
        contact.call_status === 'completed'
          ? 'completed'
          : campaignRetryOutcome(contact.failure_reason ?? 'failed');
      const retry =
        outcome !== 'completed' &&
        campaign.status !== 'canceled' &&
        campaign.retryOn.includes(outcome) &&
        contact.attempts < campaign.retryMaxAttempts;
      await em.update(CampaignContact, contact.id, {
        status: outcome === 'completed' ? 'completed' : retry ? 'pending' : 'failed',
        lastOutcome: outcome,
        nextAttemptAt: new Date(this.clock.now().getTime() + (retry ? campaign.retryDelayMs : 0)),
      });
    }
  }

  /** Creates calls for the next due contacts, up to max_concurrency live ones, inside the calling window. */
  private async dispatch(em: EntityManager, campaign: Campaign): Promise<string[]> {
    const agency = await em.findOneByOrFail(Agency, { id: campaign.agencyId });
    const agent = campaign.agentId ? await em.findOneBy(Agent, { id: campaign.agentId }) : null;
    if (!agent) return [];
    const now = this.clock.now();
    const window = campaign.callingWindow ?? effectiveWindow(agent.callingWindow, agency.callingWindow);
    if (window && nextOpening(window, now) !== null) return [];
    const [{ live }] = (await em.query(
      `SELECT count(*)::int AS live FROM campaign_contacts WHERE campaign_id = $1 AND status = 'in_progress'`,
      [campaign.id],
    )) as [{ live: number }];
    const free = campaign.maxConcurrency - live;
    if (free <= 0) return [];
    const due = await em
      .getRepository(CampaignContact)
      .createQueryBuilder('contact')
      .where(`contact.campaign_id = :id AND contact.status = 'pending' AND contact.next_attempt_at <= :now`, {
        id: campaign.id,
        now,
      })
      .orderBy('contact.next_attempt_at')
      .addOrderBy('contact.row_number')
      .limit(free)
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getMany();
    const listed = await this.dnc.listedAmong(
      campaign.agencyId,
      due.map((c) => c.phoneNumber),
      em,
    );
    const skipped = due.filter((c) => listed.has(c.phoneNumber)).map((c) => c.id);
    if (skipped.length > 0) {
      await em.update(CampaignContact, { id: In(skipped) }, { status: 'skipped', lastOutcome: 'on_dnc' });
    }
    const contacts = due.filter((c) => !listed.has(c.phoneNumber));
    const calls = await this.calls.createCalls(
      em,
      contacts.map((contact) => ({
        agencyId: campaign.agencyId,
        agentId: agent.id,
        campaignId: campaign.id,
        phoneNumber: contact.phoneNumber,
        name: contact.name,
        email: contact.email,
        metadata: contact.variables,
        scheduledFor: null,
        note: `campaign "${campaign.name}", contact row ${contact.rowNumber}, attempt ${contact.attempts + 1}`,
      })),
    );
    await em.query(
      `UPDATE campaign_contacts c
          SET status = 'in_progress', attempts = c.attempts + 1, last_call_id = u.call_id, updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[]) AS u(id, call_id)
        WHERE c.id = u.id`,
      [contacts.map((c) => c.id), calls.map((call) => call.id)],
    );
    return calls.map((call) => call.id);
  }

  private async finishIfDone(em: EntityManager, emit: Emit, campaign: Campaign): Promise<void> {
    const [{ open }] = (await em.query(
      `SELECT count(*)::int AS open FROM campaign_contacts WHERE campaign_id = $1 AND status IN ('pending', 'in_progress')`,
      [campaign.id],
    )) as [{ open: number }];
    if (open > 0) return;
    // Conditional: a cancel committed meanwhile (it does not take the tick's lock) must not become "finished".
    const { affected } = await em.update(
      Campaign,
      { id: campaign.id, status: In(['running', 'paused']) },
      { status: 'finished', finishedAt: new Date() },
    );
    if (affected) await this.campaigns.emitCampaignEvent(em, emit, campaign.id, 'campaign.finished');
  }
}
