import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Validate,
  ValidateIf,
  ValidateNested,
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

/**
 * An optional nested object field (`null` clears it): an array, a string or a number answers 400 naming
 * the field, instead of passing as "no nested object to check" (an empty array did, and was stored).
 */
export function OptionalNested(type: () => new () => object): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    ValidateIf((_: unknown, value: unknown) => value !== null),
    IsObject({ message: (args) => `${args.property} must be an object` }),
    ValidateNested(),
    Type(type),
  );
}
