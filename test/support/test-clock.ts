import { Clock } from '../../src/common/clock';

/**
 * The time of an e2e test app (startTestApp makes every Clock of the app read it). It follows the
 * real time until a test freezes it at a chosen instant; `advance` moves a frozen clock on.
 */
export class TestClock extends Clock {
  private frozenAt: number | null = null;

  override now(): Date {
    return new Date(this.frozenAt ?? Date.now());
  }

  /** Stops the clock at `at` (default: the current real time) and returns that instant. */
  freeze(at: Date | string | number = Date.now()): Date {
    this.frozenAt = new Date(at).getTime();
    return this.now();
  }

  advance(ms: number): Date {
    return this.freeze((this.frozenAt ?? Date.now()) + ms);
  }

  /** Back to the real time. */
  release(): void {
    this.frozenAt = null;
  }
}
