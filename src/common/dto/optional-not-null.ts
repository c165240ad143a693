import { ValidateIf } from 'class-validator';

/**
 * A field that may be left out but not sent as null: class-validator's IsOptional skips null too, so
 * `{"active": null}` reached a NOT NULL column and answered 500. With this the field's own validators
 * judge a null (`active must be a boolean value`) and the answer is a 400 naming it. Fields where null
 * means "clear" keep IsOptional.
 */
export function OptionalNotNull(): PropertyDecorator {
  return ValidateIf((_: unknown, value: unknown) => value !== undefined);
}
