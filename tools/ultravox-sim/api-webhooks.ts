import { randomBytes, randomUUID } from 'node:crypto';
import { FastifyInstance } from 'fastify';
import { accountOf, pageOrError, pageRequest } from './api-http';
import { QueryParams, paginate } from './pagination';
import { SimState } from './state';
import { SimWebhook, WebhookEvent } from './types';
import { checkWebhook } from './validation';

const NOT_FOUND = { detail: 'Not found.' };

type WebhookParams = { Params: { webhookId: string } };

export function registerWebhookRoutes(app: FastifyInstance, state: SimState): void {
  app.post<{ Body: unknown }>('/api/webhooks', async (request, reply) => {
    const checked = checkWebhook(request.body, false);
    if (!checked.ok) return reply.code(400).send({ detail: checked.detail });
    const input = checked.value;
    const created = new Date().toISOString();
    const webhook: SimWebhook = {
      webhookId: randomUUID(),
      url: input.url as string,
      events: input.events as WebhookEvent[],
      // Ultravox generates a secret when none is given and returns it; so does the simulator.
      secrets: input.secrets ?? [randomBytes(24).toString('base64url')],
      agentId: input.agentId ?? null,
      created,
      status: 'normal',
      lastStatusChange: created,
      recentFailures: [],
    };
    accountOf(state, request).webhooks.set(webhook.webhookId, webhook);
    return reply.code(201).send(webhook);
  });

  app.get<{ Querystring: QueryParams }>('/api/webhooks', async (request, reply) => {
    const webhooks = [...accountOf(state, request).webhooks.values()];
    return pageOrError(reply, () =>
      paginate(webhooks, (hook) => webhooks.indexOf(hook), pageRequest(request, 100)),
    );
  });

  app.get<WebhookParams>('/api/webhooks/:webhookId', async (request, reply) => {
    const webhook = accountOf(state, request).webhooks.get(request.params.webhookId);
    return webhook ?? reply.code(404).send(NOT_FOUND);
  });

  app.patch<WebhookParams & { Body: unknown }>('/api/webhooks/:webhookId', async (request, reply) => {
    const webhook = accountOf(state, request).webhooks.get(request.params.webhookId);
    if (!webhook) return reply.code(404).send(NOT_FOUND);
    const checked = checkWebhook(request.body, true);
    if (!checked.ok) return reply.code(400).send({ detail: checked.detail });
    const { url, events, secrets, agentId } = checked.value;
    if (url !== undefined) webhook.url = url;
    if (events !== undefined) webhook.events = events;
    if (secrets !== undefined) webhook.secrets = secrets;
    if (agentId !== undefined) webhook.agentId = agentId;
    return webhook;
  });

  app.delete<WebhookParams>('/api/webhooks/:webhookId', async (request, reply) => {
    const deleted = accountOf(state, request).webhooks.delete(request.params.webhookId);
    return deleted ? reply.code(204).send() : reply.code(404).send(NOT_FOUND);
  });
}
