/** What a call's `templateContext` is built from: the callee and the call's string metadata. */
export interface ContextSource {
  phoneNumber: string | null;
  name: string | null;
  email: string | null;
  metadata: object | null;
}

/**
 * The prompt's `{{variables}}`: the call's string metadata (a campaign contact's extra columns),
 * `phone`, and `name` / `email` when known.
 */
export function templateContextOf(source: ContextSource): Record<string, string> {
  const context: Record<string, string> = Object.fromEntries(
    Object.entries(source.metadata ?? {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
  context.phone = source.phoneNumber ?? '';
  if (source.name) context.name = source.name;
  if (source.email) context.email = source.email;
  return context;
}

/**
 * Only the keys the agent's context schema declares (Ultravox: "Call creation requests must provide
 * context adhering to this schema"; sending others can make it refuse the call). `declared` null: the
 * agent declares no schema, so everything is sent.
 */
export function declaredContext(
  context: Record<string, string>,
  declared: readonly string[] | null,
): Record<string, string> {
  if (declared === null) return context;
  return Object.fromEntries(declared.filter((key) => key in context).map((key) => [key, context[key]]));
}

/** The declared variables this context leaves empty (absent or blank), in the schema's order. */
export function emptyVariables(
  context: Record<string, string>,
  declared: readonly string[] | null,
): string[] {
  return (declared ?? []).filter((key) => (context[key] ?? '').trim() === '');
}
