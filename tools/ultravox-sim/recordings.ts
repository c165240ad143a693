import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accountOf } from './api-http';
import { SimState } from './state';
import { SimCall } from './types';

/**
 * Recordings, as Ultravox serves them (reference/ultravox-api.md "Recordings"): a call created with
 * `recordingEnabled: true` that connected has one once it ended. `GET /api/calls/{id}/recording`
 * answers 302 to a file URL that needs no key (like a pre-signed storage URL, it carries a token);
 * the file is a WAV the simulator generates on the fly (8 kHz, 16-bit mono, a 400 Hz tone), as long
 * as the call's billed duration, or `recordingBytes` of audio when that option is set. The file route
 * answers ranges (206, 416) and never holds a whole file in memory.
 */

const SAMPLE_RATE = 8000;
const BYTES_PER_SECOND = SAMPLE_RATE * 2;
const HEADER_BYTES = 44;
const CHUNK_BYTES = 64 * 1024;
/** One period of the tone: 20 samples of 400 Hz at 8 kHz, 40 bytes. */
const PERIOD = Buffer.alloc(40);
for (let i = 0; i < 20; i++) {
  PERIOD.writeInt16LE(Math.round(Math.sin((2 * Math.PI * i) / 20) * 8000), i * 2);
}

/** A request the file host received (to check no Ultravox key reached it). */
export interface RecordingDownload {
  callId: string;
  range: string | null;
  headers: Record<string, string>;
  at: string;
}

export interface RecordingRoutes {
  /** Every request of a recording file, oldest first. */
  readonly downloads: RecordingDownload[];
}

export function registerRecordingRoutes(
  app: FastifyInstance,
  state: SimState,
  options: { recordingBytes: number | null },
): RecordingRoutes {
  const secret = randomBytes(32);
  const token = (callId: string) => createHmac('sha256', secret).update(callId).digest('base64url');
  const downloads: RecordingDownload[] = [];

  app.get<{ Params: { callId: string } }>('/api/calls/:callId/recording', async (request, reply) => {
    const sim = accountOf(state, request).calls.get(request.params.callId);
    if (!sim || !hasRecording(sim)) return reply.code(404).send({ detail: 'Not found.' });
    const callId = sim.call.callId;
    const file = `${request.protocol}://${request.host}/_sim/recording-files/${callId}.wav?token=${token(callId)}`;
    return reply.code(302).header('Location', file).send();
  });

  app.get<{ Params: { file: string }; Querystring: { token?: string } }>(
    '/_sim/recording-files/:file',
    async (request, reply) => {
      const callId = request.params.file.replace(/\.wav$/, '');
      downloads.push({
        callId,
        range: typeof request.headers.range === 'string' ? request.headers.range : null,
        headers: headersOf(request),
        at: new Date().toISOString(),
      });
      const given = Buffer.from(request.query.token ?? '', 'base64url');
      const expected = Buffer.from(token(callId), 'base64url');
      const found = state.findCall(callId);
      if (given.length !== expected.length || !timingSafeEqual(given, expected) || !found) {
        return reply.code(403).type('application/xml').send('<Error><Code>AccessDenied</Code></Error>');
      }
      return serveWav(reply, request.headers.range, dataBytesOf(found.call.call, options.recordingBytes));
    },
  );

  return { downloads };
}

function hasRecording(sim: SimCall): boolean {
  return (
    sim.call.recordingEnabled === true &&
    sim.call.joined !== null &&
    (sim.phase === 'ended' || sim.phase === 'billed')
  );
}

function dataBytesOf(call: SimCall['call'], recordingBytes: number | null): number {
  if (recordingBytes !== null) return Math.max(2, recordingBytes - (recordingBytes % 2));
  const seconds = Number.parseFloat(call.billedDuration ?? '1') || 1;
  return Math.max(1, Math.ceil(seconds)) * BYTES_PER_SECOND;
}

function serveWav(reply: FastifyReply, range: string | undefined, dataBytes: number): FastifyReply {
  const size = HEADER_BYTES + dataBytes;
  const wanted = parseRange(range, size);
  void reply.header('Accept-Ranges', 'bytes').type('audio/wav');
  if (wanted === 'unsatisfiable') {
    return reply.code(416).header('Content-Range', `bytes */${size}`).send();
  }
  const [start, end] = wanted ?? [0, size - 1];
  if (wanted) void reply.code(206).header('Content-Range', `bytes ${start}-${end}/${size}`);
  void reply.header('Content-Length', String(end - start + 1));
  return reply.send(Readable.from(wavBytes(dataBytes, start, end)));
}

/** One range, [first, last] inclusive; null for none (or several: the whole file is served). */
function parseRange(header: string | undefined, size: number): [number, number] | null | 'unsatisfiable' {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start >= size || end < start ? 'unsatisfiable' : [start, end];
}

/** Bytes `start`..`end` (inclusive) of the WAV file, in chunks, generated as they are read. */
function* wavBytes(dataBytes: number, start: number, end: number): Generator<Buffer> {
  const header = wavHeader(dataBytes);
  for (let at = start; at <= end;) {
    const length = Math.min(CHUNK_BYTES, end - at + 1);
    const chunk = Buffer.alloc(length);
    const inHeader = Math.max(0, Math.min(length, HEADER_BYTES - at));
    if (inHeader > 0) header.copy(chunk, 0, at, at + inHeader);
    if (inHeader < length) {
      const phase = (at + inHeader - HEADER_BYTES) % PERIOD.length;
      chunk.fill(Buffer.concat([PERIOD.subarray(phase), PERIOD.subarray(0, phase)]), inHeader);
    }
    at += length;
    yield chunk;
  }
}

function wavHeader(dataBytes: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // PCM format chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(SAMPLE_RATE, 24);
  header.writeUInt32LE(BYTES_PER_SECOND, 28);
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

function headersOf(request: FastifyRequest): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers)
      .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
      .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );
}
