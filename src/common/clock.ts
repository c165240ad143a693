import { Injectable } from '@nestjs/common';

/** The time, from one injectable place, so schedule logic can be tested at any instant. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
