/**
 * The benchmark's webhook receiver, run as its own process (forked with an IPC channel by
 * bench/delivery.ts) so that the emitter's CPU work never delays a receipt timestamp.
 *
 * Every request is verified twice — standardwebhooks `Webhook.verify` and X-Signature (CONTRACT §6) —
 * then answered 204 (400 when a signature is wrong). Bodies carry `bench_phase`, `seq` and `sent_at_ns`
 * (process.hrtime.bigint() of the emitter, CLOCK_MONOTONIC, so comparable across processes).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { PhaseReceipts, ReceiverCommand, ReceiverMessage } from './protocol';

interface Phase {
  expected: number;
  seen: Uint8Array;
  /** ms from emit-call start to receipt, per seq (first receipt only). */
  latencies: Float64Array;
  unique: number;
  duplicates: number;
  /** Distinct receipts per second since the phase was announced (just before its first emit). */
  perSecond: number[];
  expectedAtNs: bigint;
  firstNs: bigint | null;
  lastNs: bigint | null;
  notified: boolean;
}

const phases = new Map<string, Phase>();
let webhook: Webhook | undefined;
let xKey: Buffer | undefined;
let verifyFailures = 0;
let unexpected = 0;
let lastFailure: string | null = null;

const send = (message: ReceiverMessage) => process.send?.(message);

function summary(name: string, phase: Phase): PhaseReceipts {
  return {
    phase: name,
    expected: phase.expected,
    unique: phase.unique,
    duplicates: phase.duplicates,
    firstNs: phase.firstNs?.toString() ?? null,
    lastNs: phase.lastNs?.toString() ?? null,
    verifyFailures,
    unexpected,
    lastFailure,
  };
}

function xSignatureMatches(header: string | string[] | undefined, body: string): boolean {
  if (typeof header !== 'string' || !xKey) return false;
  const expected = createHmac('sha256', xKey).update(body, 'utf8').digest();
  const given = Buffer.from(header, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function record(receivedNs: bigint, payload: { bench_phase?: string; seq?: number; sent_at_ns?: string }) {
  const name = payload.bench_phase ?? '';
  const phase = phases.get(name);
  const seq = payload.seq ?? -1;
  if (!phase || seq < 0 || seq >= phase.expected) {
    unexpected++;
    return;
  }
  if (phase.seen[seq]) {
    phase.duplicates++;
    return;
  }
  phase.seen[seq] = 1;
  phase.unique++;
  const second = Number((receivedNs - phase.expectedAtNs) / 1_000_000_000n);
  phase.perSecond[second] = (phase.perSecond[second] ?? 0) + 1;
  phase.latencies[seq] = Number(receivedNs - BigInt(payload.sent_at_ns ?? '0')) / 1e6;
  if (phase.firstNs === null) phase.firstNs = receivedNs;
  phase.lastNs = receivedNs;
  if (phase.unique === phase.expected && !phase.notified) {
    phase.notified = true;
    send({ type: 'complete', receipts: summary(name, phase) });
  }
}

function handle(req: IncomingMessage, res: ServerResponse, body: string, receivedNs: bigint): void {
  let payload: { bench_phase?: string; seq?: number; sent_at_ns?: string };
  try {
    if (!webhook) throw new Error('receiver not configured');
    payload = webhook.verify(body, {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    }) as typeof payload;
    if (!xSignatureMatches(req.headers['x-signature'], body)) throw new Error('X-Signature mismatch');
  } catch (err) {
    verifyFailures++;
    lastFailure = (err as Error).message;
    res.writeHead(400).end();
    return;
  }
  record(receivedNs, payload);
  res.writeHead(204).end();
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8'), process.hrtime.bigint()));
});
server.keepAliveTimeout = 60_000;

process.on('message', (command: ReceiverCommand) => {
  switch (command.type) {
    case 'configure':
      webhook = new Webhook(command.secret);
      xKey = Buffer.from(command.secret, 'utf8');
      send({ type: 'configured' });
      break;
    case 'expect':
      phases.set(command.phase, {
        expected: command.count,
        seen: new Uint8Array(command.count),
        latencies: new Float64Array(command.count),
        unique: 0,
        duplicates: 0,
        perSecond: [],
        expectedAtNs: process.hrtime.bigint(),
        firstNs: null,
        lastNs: null,
        notified: false,
      });
      send({ type: 'expecting', phase: command.phase });
      break;
    case 'status': {
      const phase = phases.get(command.phase);
      if (phase) send({ type: 'status', receipts: summary(command.phase, phase) });
      break;
    }
    case 'latencies': {
      const phase = phases.get(command.phase);
      const values = phase ? Array.from(phase.latencies).filter((_v, i) => phase.seen[i] === 1) : [];
      const perSecond = Array.from(phase?.perSecond ?? [], (n) => n ?? 0);
      send({ type: 'latencies', phase: command.phase, values, perSecond });
      break;
    }
    case 'exit':
      server.close();
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  send({ type: 'listening', port: (server.address() as AddressInfo).port });
});
