import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent. */
  body: string;
}

/** The Standard Webhooks headers of a request, as `new Webhook(secret).verify` takes them. */
export function standardWebhookHeaders(r: { headers: IncomingHttpHeaders }): Record<string, string> {
  return {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  };
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (to exceed the sender's timeout). */
  delayMs?: number;
  /** No answer until `releaseHeld()` (a receiver that hangs). */
  hold?: boolean;
}

/**
 * A real webhook receiver on loopback. `answer` decides each response (default 204); every request is
 * recorded with its raw body for signature checks.
 */
export class Receiver {
  readonly received: Received[] = [];
  answer: (request: Received, index: number) => Answer = () => ({ status: 204 });
  /** Requests not answered yet, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  private held: (() => void)[] = [];
  private server?: Server;

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request: Received = {
          at: Date.now(),
          path: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.received.push(request);
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        res.once('close', () => (this.inFlight -= 1));
        const answer = this.answer(request, this.received.length - 1);
        const reply = () => {
          if (res.destroyed) return;
          res.writeHead(answer.status, answer.headers ?? {});
          res.end(answer.body ?? '');
        };
        if (answer.hold) this.held.push(reply);
        else if (answer.delayMs) setTimeout(reply, answer.delayMs).unref();
        else reply();
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** Answers every held request now. */
  releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const reply of held) reply();
  }

  /** Bodies parsed as JSON. */
  events<T = Record<string, unknown>>(): T[] {
    return this.received.map((r) => JSON.parse(r.body) as T);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
