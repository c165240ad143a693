/** Checks shared by the benchmarks' command-line options. */

/** `--name`'s value as a whole number ≥ 0, or a clear error naming the option. */
export function wholeNumber(name: string, raw: unknown): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
  return value;
}

/** `--*-node-args` values: one string of node flags, split on spaces. */
export const nodeArgs = (value: unknown) => String(value).split(' ').filter(Boolean);
