import { Transform } from 'class-transformer';
import { ValidateBy, ValidationOptions } from 'class-validator';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * `+15551234567`, or a formatted international number such as `+1 (555) 123-4567`, as E.164;
 * null when it has no country code or cannot be a phone number of its country.
 * Possible (length and prefix for the country) rather than "valid": fictional test ranges must pass.
 */
export function toE164(input: string): string | null {
  const trimmed = input.trim();
  if (!trimmed.startsWith('+') || /[^\d\s()+.-]/.test(trimmed)) return null;
  const parsed = parsePhoneNumberFromString(trimmed);
  return parsed?.isPossible() ? parsed.number : null;
}

/**
 * `input` exactly as E.164 writes it (`+` and 2–15 digits, nothing else, not even a trailing newline),
 * when it is a possible number; null otherwise. For fields the contract declares E.164 without
 * formatting (trigger-call's `phone`, CONTRACT §5.3).
 */
export function strictE164(input: string): string | null {
  return /^\+[1-9]\d{1,14}$/.test(input) && toE164(input) === input ? input : null;
}

/**
 * Validates a phone number field as E.164 and normalises it to that form; with `formatted: false`
 * only the exact E.164 form passes (strictE164).
 */
export function IsE164({
  formatted = true,
  ...options
}: ValidationOptions & { formatted?: boolean } = {}): PropertyDecorator {
  const parse = formatted ? toE164 : strictE164;
  const validate = ValidateBy(
    {
      name: 'isE164',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && parse(value) !== null,
        defaultMessage: (args) => `${args?.property} must be an E.164 phone number such as +15551234567`,
      },
    },
    options,
  );
  const normalise = Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? (parse(value) ?? value) : value,
  );
  return (target: object, key: string | symbol) => {
    normalise(target, key);
    validate(target, key);
  };
}
