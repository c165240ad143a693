import type {
  OpenAPIObject,
  MediaTypeObject,
  ReferenceObject,
  RequestBodyObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

type Schema = SchemaObject & Partial<ReferenceObject>;

/**
 * What the Swagger plugin writes that strict OpenAPI 3.0 readers take differently (a `nullable` only
 * admits null where `type` is in the same schema and the enum lists it):
 * - a nullable enum lists `null` among its values (`sentiment: null`);
 * - a nullable nested DTO (`nullable` beside `allOf: [$ref]`, where null fails the referenced object)
 *   is written out in place, so `calling_window: null` matches;
 * - an object with no declared properties is free-form (`metadata`), not an object that has none;
 * - enum values are sorted: the plugin lists a union type's members in the order the compiler met
 *   them, which differs between `nest build` and ts-jest, and the committed document must not.
 */
export function completeSchemas(document: OpenAPIObject): void {
  const components = (document.components?.schemas ?? {}) as Record<string, Schema>;
  const complete = (schema: Schema): Schema => {
    if (schema.nullable && schema.allOf?.length === 1 && '$ref' in schema.allOf[0]) {
      const { allOf, ...rest } = schema;
      const name = (allOf[0] as ReferenceObject).$ref.split('/').pop() ?? '';
      const target = components[name];
      if (!target) throw new Error(`OpenAPI document: unresolved ${(allOf[0] as ReferenceObject).$ref}`);
      return complete({ ...structuredClone(target), ...rest, type: 'object', nullable: true });
    }
    const out: Schema = { ...schema };
    if (out.enum) out.enum = sortedEnum(out.enum, out.nullable === true);
    if (out.type === 'object' && !out.properties && !out.allOf && out.additionalProperties === undefined) {
      out.additionalProperties = true;
    }
    if (out.properties) {
      out.properties = Object.fromEntries(
        Object.entries(out.properties).map(([key, value]) => [key, complete(value as Schema)]),
      );
    }
    if (out.items) out.items = complete(out.items as Schema);
    if (out.allOf) out.allOf = out.allOf.map((s) => complete(s as Schema));
    if (out.anyOf) out.anyOf = out.anyOf.map((s) => complete(s as Schema));
    if (out.oneOf) out.oneOf = out.oneOf.map((s) => complete(s as Schema));
    if (typeof out.additionalProperties === 'object') {
      out.additionalProperties = complete(out.additionalProperties as Schema);
    }
    return out;
  };
  for (const [name, schema] of Object.entries(components)) components[name] = complete(schema);
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of Object.values(pathItem)) {
      if (typeof operation !== 'object' || !operation || !('responses' in operation)) continue;
      for (const parameter of operation.parameters ?? []) {
        if ('schema' in parameter && parameter.schema) parameter.schema = complete(parameter.schema);
      }
      const bodies: MediaTypeObject[] = [
        ...Object.values((operation.requestBody as RequestBodyObject | undefined)?.content ?? {}),
        ...Object.values(operation.responses as Record<string, ResponseObject>).flatMap((r) =>
          Object.values(r.content ?? {}),
        ),
      ];
      for (const media of bodies) if (media.schema) media.schema = complete(media.schema);
    }
  }
}

function sortedEnum(values: unknown[], nullable: boolean): unknown[] {
  const present = values.filter((value) => value !== null);
  const sorted = present.every((value) => typeof value === 'string') ? [...present].sort() : present;
  return nullable ? [...sorted, null] : sorted;
}
