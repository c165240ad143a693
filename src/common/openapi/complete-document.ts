import type { OpenAPIObject } from '@nestjs/swagger';
import { completeSchemas } from './complete-schemas';
import { completeErrorResponses } from './error-responses';

/**
 * What the decorators and the Swagger plugin leave out of the document: every operation's error
 * codes, schemas strict readers accept, and `security: []` on public operations (Ultravox's webhooks,
 * health), so they are not read as "security unspecified"; and no component nothing refers to.
 */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  completeErrorResponses(document);
  completeSchemas(document);
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of [pathItem.get, pathItem.put, pathItem.post, pathItem.delete, pathItem.patch]) {
      if (operation && !operation.security) operation.security = [];
    }
  }
  dropUnusedSchemas(document);
  return document;
}

/** Components only the written-out nullable DTOs used (e.g. CallingWindowDto) go. */
function dropUnusedSchemas(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (;;) {
    const text = JSON.stringify({ ...document, components: { ...document.components, schemas: {} } });
    const inSchemas = Object.entries(schemas).map(([name, schema]) => ({
      name,
      text: JSON.stringify(schema),
    }));
    const used = (name: string) => {
      const ref = `"#/components/schemas/${name}"`;
      return text.includes(ref) || inSchemas.some((s) => s.name !== name && s.text.includes(ref));
    };
    const unused = Object.keys(schemas).filter((name) => !used(name));
    if (unused.length === 0) return;
    for (const name of unused) delete schemas[name];
  }
}
