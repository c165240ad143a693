import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiError, ErrorDetail } from '../common/errors/api-error';
import { validationFailed } from '../common/errors/validation';
import { toE164 } from '../common/phone';
import { AddDncNumbersDto } from './dto/dnc.dto';

/** A body of 10,000 bad numbers would otherwise answer with 10,000 details. */
const MAX_DETAILS = 100;

const E164_MESSAGE = 'must be an E.164 phone number such as +15551234567';

/**
 * Checks and normalises `numbers` element by element, after the global ValidationPipe checked the
 * body's shape: class-validator's `each: true` reports one error for the whole array, but a client
 * fixing a 10,000-line import needs to know which lines are wrong (`numbers[3]`).
 */
@Injectable()
export class DncNumbersPipe implements PipeTransform<AddDncNumbersDto, AddDncNumbersDto> {
  transform(dto: AddDncNumbersDto): AddDncNumbersDto {
    const details: ErrorDetail[] = [];
    const numbers = dto.numbers.map((value: unknown, index) => {
      const e164 = typeof value === 'string' ? toE164(value) : null;
      if (e164 === null) {
        details.push({ field: `numbers[${index}]`, message: `numbers[${index}] ${E164_MESSAGE}` });
      }
      return e164 ?? '';
    });
    if (details.length > MAX_DETAILS) {
      const shown = details.slice(0, MAX_DETAILS);
      throw ApiError.badRequest(
        'validation_failed',
        `${details.length} of ${numbers.length} numbers are not E.164 phone numbers`,
        { details: shown, hint: `details lists the first ${MAX_DETAILS}` },
      );
    }
    if (details.length > 0) throw validationFailed(details);
    return { ...dto, numbers };
  }
}

/** For `:phone` path parameters: URL-encoded E.164 (`%2B15551234567`), normalised. */
@Injectable()
export class E164ParamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const e164 = toE164(value);
    if (e164 === null) throw validationFailed([{ field: 'phone', message: `phone ${E164_MESSAGE}` }]);
    return e164;
  }
}
