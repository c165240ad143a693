import { Module } from '@nestjs/common';
import { UltravoxClient } from './ultravox.client';

@Module({ providers: [UltravoxClient], exports: [UltravoxClient] })
export class UltravoxModule {}
