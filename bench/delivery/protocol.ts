/** IPC messages between bench/delivery.ts and its child processes (receiver, reference worker). */

export type ReceiverCommand =
  | { type: 'configure'; secret: string }
  | { type: 'expect'; phase: string; count: number }
  | { type: 'status'; phase: string }
  | { type: 'latencies'; phase: string }
  | { type: 'exit' };

/** What the receiver got for one phase. Times are process.hrtime.bigint() values, as strings. */
export interface PhaseReceipts {
  phase: string;
  expected: number;
  /** Distinct seqs received and verified. */
  unique: number;
  /** Verified receipts of a seq already received (delivery is at-least-once). */
  duplicates: number;
  firstNs: string | null;
  lastNs: string | null;
  /** Receiver-wide: requests whose signature did not verify, and verified bodies of no known phase. */
  verifyFailures: number;
  unexpected: number;
  lastFailure: string | null;
}

export type ReceiverMessage =
  | { type: 'listening'; port: number }
  | { type: 'configured' }
  | { type: 'expecting'; phase: string }
  | { type: 'complete'; receipts: PhaseReceipts }
  | { type: 'status'; receipts: PhaseReceipts }
  | { type: 'latencies'; phase: string; values: number[]; perSecond: number[] };

/** A reference job: the very body the outbox stored, to be signed and POSTed as is. */
export interface ReferenceJob {
  eventId: string;
  body: string;
}
