import { Injectable } from '@nestjs/common';

/** The time, injected so that tests decide what it is. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
