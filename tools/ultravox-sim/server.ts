import Fastify from 'fastify';
import { registerAgentRoutes } from './api-agents';
import { registerCallRoutes } from './api-calls';
import { registerMessageRoutes } from './api-messages';
import { installApiGuards, installErrorShape } from './api-http';
import { registerWebhookRoutes } from './api-webhooks';
import { CallRunner, registerEndHoldRoutes } from './call-runner';
import { registerAgentControlRoutes, SimAgentsControl } from './console-calls';
import { registerControlRoutes, SimControl } from './control';
import { registerInbox } from './inbox';
import { RecordingDownload, registerRecordingRoutes } from './recordings';
import { ResolvedOptions, resolveOptions } from './options';
import { Scheduler } from './scheduler';
import { SimState } from './state';
import { SimOptions } from './types';
import { WebhookSender } from './webhook-sender';

export { SimControlError } from './control';
export type { AddAgentInput, ConsoleCallInput } from './console-calls';
export type { SimAccountView, SimCallView, SimCallsView } from './control';
export { signUltravoxWebhook, ultravoxSignatureHeader } from './signing';
export type * from './types';
export type { ResolvedOptions } from './options';
export type { RecordingDownload } from './recordings';

/** A running simulator: the `/_sim/*` controls as methods, plus its URL and raw state for assertions. */
export interface UltravoxSim
  extends
    Pick<
      SimControl,
      | 'addFault'
      | 'faults'
      | 'clearFaults'
      | 'requests'
      | 'clearRequests'
      | 'calls'
      | 'deliveries'
      | 'reset'
      | 'resend'
      | 'dropWebhooks'
      | 'drops'
      | 'forget'
      | 'deleteWebhook'
      | 'setAllowedConcurrentCalls'
    >,
    Pick<SimAgentsControl, 'addAgent' | 'consoleCall'> {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:41234; use it as ULTRAVOX_API_BASE_URL. */
  readonly url: string;
  readonly options: ResolvedOptions;
  /** Live state, for reading in tests; mutate it through the methods instead. */
  readonly state: SimState;
  /** Requests of recording files (the URLs the 302 of GET /api/calls/{id}/recording points to). */
  recordingDownloads(): RecordingDownload[];
  close(): Promise<void>;
}

export async function startUltravoxSim(options: Partial<SimOptions> = {}): Promise<UltravoxSim> {
  const resolved = resolveOptions(options);
  const state = new SimState();
  const scheduler = new Scheduler();
  const sender = new WebhookSender(state, scheduler, {
    retries: resolved.webhookRetries,
    retryDelayMs: resolved.timings.webhookRetryDelayMs,
    timeoutMs: resolved.webhookTimeoutMs,
  });
  const runner = new CallRunner(resolved.timings, scheduler, sender, state);
  const control = new SimControl(state, scheduler, sender, resolved.maxConcurrentCalls);
  const agentsControl = new SimAgentsControl(state, runner);

  // forceCloseConnections: a request held open by a "hang" fault must not stall close().
  const app = Fastify({ logger: resolved.logger, forceCloseConnections: true });
  installErrorShape(app);
  installApiGuards(app, state, scheduler);
  registerCallRoutes(app, { state, runner, maxConcurrentCalls: resolved.maxConcurrentCalls });
  registerMessageRoutes(app, { state, messagesPageSize: resolved.messagesPageSize });
  registerAgentRoutes(app, state);
  registerWebhookRoutes(app, state);
  const recordings = registerRecordingRoutes(app, state, { recordingBytes: resolved.recordingBytes });
  registerControlRoutes(app, control);
  registerAgentControlRoutes(app, agentsControl);
  registerEndHoldRoutes(app, runner);
  registerInbox(app);

  await app.listen({ port: resolved.port, host: resolved.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : resolved.port;
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;

  return {
    url: `http://${host}:${port}`,
    options: resolved,
    state,
    addFault: (input) => control.addFault(input),
    faults: () => control.faults(),
    clearFaults: () => control.clearFaults(),
    requests: () => control.requests(),
    clearRequests: () => control.clearRequests(),
    calls: () => control.calls(),
    deliveries: () => control.deliveries(),
    reset: () => control.reset(),
    resend: (callId, event) => control.resend(callId, event),
    dropWebhooks: (input) => control.dropWebhooks(input),
    drops: () => control.drops(),
    forget: (callId) => control.forget(callId),
    deleteWebhook: (webhookId) => control.deleteWebhook(webhookId),
    setAllowedConcurrentCalls: (apiKey, allowed) => control.setAllowedConcurrentCalls(apiKey, allowed),
    addAgent: (input) => agentsControl.addAgent(input),
    consoleCall: (input) => agentsControl.consoleCall(input),
    recordingDownloads: () => [...recordings.downloads],
    close: async () => {
      scheduler.cancelAll();
      await app.close();
    },
  };
}
