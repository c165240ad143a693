/** The agency's webhook receiver for bench:lifecycle: when each call's terminal events arrived. */
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

interface Terminal {
  event: string;
  eventId: string;
  /** Epoch ms, on this machine's clock (the simulator's `ended` is on the same clock). */
  at: number;
  summary: string | null;
}

export class TerminalReceiver {
  /** Switchboard call id → its distinct terminal events (a redelivery of one event counts once). */
  readonly byCall = new Map<string, Terminal[]>();
  private server?: Server;

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/calls`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = Date.now();
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          event: string;
          event_id: string;
          call_id: string;
          summary?: string | null;
        };
        const seen = this.byCall.get(body.call_id) ?? [];
        if (!seen.some((t) => t.eventId === body.event_id)) {
          seen.push({ event: body.event, eventId: body.event_id, at, summary: body.summary ?? null });
        }
        this.byCall.set(body.call_id, seen);
        res.writeHead(204).end();
      });
    });
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
