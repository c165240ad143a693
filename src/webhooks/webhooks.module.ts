import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QUEUES } from '../common/queues';
import { DeliveriesController } from './delivery/deliveries.controller';
import { DeliveriesService } from './delivery/deliveries.service';
import { DeliveryAttempt, WebhookDelivery } from './delivery/webhook-delivery.entity';
import { WebhookEvent } from './delivery/webhook-event.entity';
import { WebhookOutbox } from './delivery/webhook-outbox.service';
import { WebhookEndpoint } from './endpoints/webhook-endpoint.entity';
import { WebhookEndpointsController } from './endpoints/webhook-endpoints.controller';
import { WebhookEndpointsService } from './endpoints/webhook-endpoints.service';

/** The outbox and its queue: what any role needs to emit events. */
@Module({
  imports: [
    TypeOrmModule.forFeature([WebhookEndpoint, WebhookEvent, WebhookDelivery, DeliveryAttempt]),
    BullModule.registerQueue({ name: QUEUES.webhookDelivery }),
  ],
  providers: [WebhookOutbox],
  exports: [WebhookOutbox, BullModule, TypeOrmModule],
})
export class WebhookOutboxModule {}

/** The HTTP side: endpoints API and delivery log. */
@Module({
  imports: [WebhookOutboxModule],
  controllers: [WebhookEndpointsController, DeliveriesController],
  providers: [WebhookEndpointsService, DeliveriesService],
  exports: [WebhookEndpointsService],
})
export class WebhooksModule {}
