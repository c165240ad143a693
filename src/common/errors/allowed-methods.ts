import FindMyWay from 'find-my-way';

/**
 * Remembers every registered route so that an unmatched request can tell "unknown path" (404)
 * from "known path, wrong method" (405 with Allow), which Fastify itself does not distinguish.
 */
export class AllowedMethods {
  private readonly router = FindMyWay();
  private readonly methods = new Set<string>();

  add(methods: string | string[], url: string): void {
    for (const method of Array.isArray(methods) ? methods : [methods]) {
      if (this.methods.has(`${method} ${url}`)) continue;
      this.methods.add(`${method} ${url}`);
      this.router.on(method as FindMyWay.HTTPMethod, url, () => undefined);
    }
  }

  /** Methods that would match `path`, or [] for an unknown path. */
  for(path: string): string[] {
    const candidates = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
    return candidates.filter((method) => this.router.find(method, path) !== null);
  }
}
