import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Agent, request } from 'undici';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { guardedLookup, publicTargetRefusal } from '../../common/http/public-target';

const EXCERPT_BYTES = 1024;

export interface DeliveryResult {
  /** 2xx within the timeout. */
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

/** POSTs webhook bodies: no redirects, a hard timeout, at most 1 KB of the answer kept. */
@Injectable()
export class DeliveryHttpClient implements OnModuleDestroy {
  private readonly agent: Agent;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const { timeoutMs, allowPrivateUrls } = config.webhooks;
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connections: 256,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: allowPrivateUrls ? { timeout: timeoutMs } : { timeout: timeoutMs, lookup: guardedLookup },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.close();
  }

  async post(url: string, headers: Record<string, string>, body: string): Promise<DeliveryResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const refused = this.refusal(url);
    if (refused) return { ok: false, statusCode: null, durationMs: 0, error: refused, responseExcerpt: null };
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.config.webhooks.timeoutMs),
      });
      const excerpt = await readExcerpt(response.body);
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      return {
        ok,
        statusCode: response.statusCode,
        durationMs: elapsed(),
        error: ok ? null : describeStatus(response.statusCode),
        responseExcerpt: excerpt,
      };
    } catch (err) {
      return {
        ok: false,
        statusCode: null,
        durationMs: elapsed(),
        error: describeError(err, this.config.webhooks.timeoutMs),
        responseExcerpt: null,
      };
    }
  }

  /** The send-time URL check for what a lookup hook cannot see: literal IPs and local names. */
  private refusal(raw: string): string | null {
    if (this.config.webhooks.allowPrivateUrls) return null;
    const why = publicTargetRefusal(new URL(raw));
    return why && `blocked: ${why}`;
  }
}

async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= EXCERPT_BYTES) break;
  }
  body.destroy();
  return size === 0 ? null : Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
}

function describeStatus(status: number): string {
  if (status >= 300 && status < 400) return `receiver answered ${status} (redirects are not followed)`;
  return `receiver answered ${status}`;
}

function describeError(err: unknown, timeoutMs: number): string {
  const error = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const name = error.name;
  if (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    error.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    error.code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return `timed out after ${timeoutMs} ms`;
  }
  const cause = error.cause ?? error;
  if (cause.code === 'EBLOCKED') return `blocked: ${cause.message}`;
  if (cause.code === 'ECONNREFUSED') return 'connection refused';
  if (cause.code === 'ENOTFOUND' || cause.code === 'EAI_AGAIN') return `host not found (${cause.code})`;
  return `${cause.code ?? name}: ${cause.message}`.slice(0, 300);
}
