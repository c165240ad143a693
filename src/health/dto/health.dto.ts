export class HealthDto {
  /** `ok` */
  status: string;
  /** Each dependency and its state, e.g. `{"postgres": {"status": "up"}}`. */
  details: Record<string, { status: string }>;
}
