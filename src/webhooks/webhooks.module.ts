import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Clock } from '../common/clock';
import { QUEUES } from '../common/queues';
import { DeliveriesController } from './delivery/deliveries.controller';
import { DeliveriesRepository } from './delivery/deliveries.repository';
import { DeliveriesService } from './delivery/deliveries.service';
import { DeliveryAttempt, WebhookDelivery } from './delivery/webhook-delivery.entity';
import { EndpointGate } from './delivery/endpoint-gate.repository';
import { WebhookEventsRepository } from './delivery/webhook-events.repository';
import { WebhookOutbox } from './delivery/webhook-outbox.service';
import { WebhookEndpoint } from './endpoints/webhook-endpoint.entity';
import { WebhookEndpointsController } from './endpoints/webhook-endpoints.controller';
import { WebhookEndpointsRepository } from './endpoints/webhook-endpoints.repository';
import { WebhookEndpointsService } from './endpoints/webhook-endpoints.service';

/** The outbox, its queue, the endpoint gate and the deliveries' and endpoints' data: what any role needs to emit and deliver events. */
@Module({
  imports: [
    TypeOrmModule.forFeature([WebhookDelivery, DeliveryAttempt, WebhookEndpoint]),
    BullModule.registerQueue({ name: QUEUES.webhookDelivery }),
  ],
  providers: [
    WebhookOutbox,
    WebhookEventsRepository,
    DeliveriesRepository,
    EndpointGate,
    WebhookEndpointsRepository,
  ],
  exports: [WebhookOutbox, DeliveriesRepository, EndpointGate, WebhookEndpointsRepository, BullModule],
})
export class WebhookOutboxModule {}

/** The HTTP side: endpoints API and delivery log. */
@Module({
  imports: [WebhookOutboxModule],
  controllers: [WebhookEndpointsController, DeliveriesController],
  providers: [WebhookEndpointsService, DeliveriesService, Clock],
  exports: [WebhookEndpointsService],
})
export class WebhooksModule {}
