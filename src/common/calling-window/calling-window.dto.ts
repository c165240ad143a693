import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsString,
  Matches,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  ValidationArguments,
} from 'class-validator';
import { CallingWindow, isIanaTimeZone, Weekday, WEEKDAYS } from './calling-window';

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

@ValidatorConstraint({ name: 'ianaTimeZone' })
class IanaTimeZone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isIanaTimeZone(value);
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be an IANA time zone such as Europe/Berlin`;
  }
}

@ValidatorConstraint({ name: 'endDiffersFromStart' })
class EndDiffersFromStart implements ValidatorConstraintInterface {
  validate(end: unknown, args: ValidationArguments): boolean {
    const start = (args.object as CallingWindowDto).start;
    return typeof end !== 'string' || typeof start !== 'string' || !HH_MM.test(start) || end !== start;
  }
  defaultMessage(): string {
    return 'end must differ from start (end before start means an overnight window)';
  }
}

/** When calls may be placed: local time in `timezone`, opening on `days`, from `start` to `end`. */
export class CallingWindowDto implements CallingWindow {
  /** IANA time zone, e.g. `America/New_York`. */
  @IsString()
  @Validate(IanaTimeZone)
  timezone: string;

  /** Days of the week, e.g. `["mon","tue","wed","thu","fri"]`. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(WEEKDAYS, { each: true, message: `days must contain only ${WEEKDAYS.join(', ')}` })
  days: Weekday[];

  /** Opening time, `HH:MM` (24 h), inclusive, local to `timezone`, on each of `days`. */
  @Matches(HH_MM, { message: 'start must be HH:MM (24 h)' })
  start: string;

  /**
   * Closing time, `HH:MM` (24 h), exclusive; must differ from start. Earlier than start means an
   * overnight window, e.g. `20:00` to `02:00` closes at 02:00 on the day after each of `days`.
   */
  @Matches(HH_MM, { message: 'end must be HH:MM (24 h)' })
  @Validate(EndDiffersFromStart)
  end: string;
}
