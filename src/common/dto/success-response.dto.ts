/** The answer of an action that returns nothing but its success. */
export class SuccessResponseDto {
  success: boolean;
}
