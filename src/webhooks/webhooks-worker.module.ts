import { Module } from '@nestjs/common';
import { DeliveryAttemptService } from './delivery/delivery-attempt.service';
import { DeliveryHttpClient } from './delivery/delivery-http.client';
import { DeliveryProcessor } from './delivery/delivery.processor';
import { DeliverySweeper } from './delivery/delivery-sweeper';
import { WebhookOutboxModule } from './webhooks.module';

/** The worker side: the delivery processor and the sweeper that keeps Redis honest. */
@Module({
  imports: [WebhookOutboxModule],
  providers: [DeliveryHttpClient, DeliveryAttemptService, DeliveryProcessor, DeliverySweeper],
})
export class WebhooksWorkerModule {}
