/**
 * `npm run bench:recording` — a 10 MB call recording streamed through Switchboard (issue 15;
 * docs/benchmarks.md#recording).
 *
 * The simulator (its own process; every recording 10 MB of WAV, ULTRAVOX_SIM_RECORDING_BYTES) and one
 * Switchboard process (`APP_ROLE=all`, as `npm run start:prod`) run as a deployment would. One recorded
 * call is placed and completed; its recording is then downloaded through
 * `GET /api/v1/calls/:id/recording` (API key) and through its signed `recording_url`, each read as it
 * arrives and counted, never kept. Meanwhile the Switchboard process's RSS (VmRSS of /proc/<pid>/status)
 * is sampled every 10 ms. Reports throughput and the RSS growth over the RSS just before each download.
 * Target: RSS growth ≤ 20 MB (the file is never held whole).
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { prepareDatabase } from '../src/database/migrate';
import { setUpAgency } from './common/agency';
import { freePort, startSimulator, startSwitchboard } from './common/processes';
import { host, writeResult } from './common/report';
import { createWorld, destroyWorld } from './common/world';

const RECORDING_BYTES = Number(process.env.BENCH_RECORDING_BYTES ?? 10 * 1024 * 1024);
const WAV_HEADER_BYTES = 44;
const TARGET_RSS_GROWTH_MB = 20;

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
}

interface Download {
  route: string;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssGrowthMb: number;
}

/** Streams `url` to nowhere, counting bytes, while sampling the API process's RSS. */
async function download(
  route: string,
  url: string,
  headers: Record<string, string>,
  pid: number,
): Promise<Download> {
  const before = rssBytes(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 10);
  const started = performance.now();
  let bytes = 0;
  try {
    const res = await request(url, { headers });
    if (res.statusCode !== 200) throw new Error(`${route}: ${res.statusCode} ${await res.body.text()}`);
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, rssBytes(pid));
  const seconds = (performance.now() - started) / 1000;
  const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
  return {
    route,
    bytes,
    seconds: Math.round(seconds * 1000) / 1000,
    mbPerSecond: mb(bytes / seconds),
    rssBeforeMb: mb(before),
    rssPeakMb: mb(peak),
    rssGrowthMb: mb(peak - before),
  };
}

async function main(): Promise<void> {
  const machine = await host();
  const world = await createWorld();
  const stops: (() => Promise<void>)[] = [];
  try {
    await prepareDatabase(world.databaseUrl, true);
    const sim = await startSimulator({
      ULTRAVOX_SIM_TIME_SCALE: '0.02',
      ULTRAVOX_SIM_RECORDING_BYTES: String(RECORDING_BYTES),
    });
    stops.push(() => sim.stop());
    const port = await freePort();
    const api = await startSwitchboard(world, {
      APP_ROLE: 'all',
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      ULTRAVOX_API_BASE_URL: sim.url,
      CALLS_SWEEP_INTERVAL_MS: '500',
    });
    stops.push(() => api.stop());
    const agency = await setUpAgency(world, api.url, sim.url);
    const auth = { authorization: `Bearer ${agency.apiKey}` };

    const triggered = await request(`${api.url}/api/trigger-call`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ phone: '+15551231111', record: true }),
    });
    const { call_id: callId } = (await triggered.body.json()) as { call_id: string };
    let recordingUrl: string | null = null;
    for (let i = 0; i < 600 && !recordingUrl; i++) {
      const res = await request(`${api.url}/api/v1/calls/${callId}`, { headers: auth });
      recordingUrl = ((await res.body.json()) as { data: { recording_url: string | null } }).data
        .recording_url;
      if (!recordingUrl) await sleep(100);
    }
    if (!recordingUrl) throw new Error(`call ${callId} never got a recording_url`);

    // Warm-up: the route's code paths and connections, not measured.
    const warm = await request(`${api.url}/api/v1/calls/${callId}/recording`, {
      headers: { ...auth, range: 'bytes=0-1048575' },
    });
    await warm.body.dump({ limit: 2 * 1024 * 1024 });
    await sleep(500);

    const downloads = [
      await download(
        'GET /api/v1/calls/:id/recording',
        `${api.url}/api/v1/calls/${callId}/recording`,
        auth,
        api.pid,
      ),
      await download('GET /api/v1/recordings/:callId (signed link)', recordingUrl, {}, api.pid),
    ];
    const expected = RECORDING_BYTES + WAV_HEADER_BYTES;
    const complete = downloads.every((d) => d.bytes === expected);
    const worst = Math.max(...downloads.map((d) => d.rssGrowthMb));
    const report = {
      at: new Date().toISOString(),
      machine,
      recordingBytes: expected,
      downloads,
      targets: {
        complete: { ok: complete, detail: `every download ${expected} bytes` },
        rssGrowth: { ok: worst <= TARGET_RSS_GROWTH_MB, value: worst, limit: TARGET_RSS_GROWTH_MB },
      },
    };
    for (const d of downloads) {
      console.log(
        `${d.route}: ${d.bytes} bytes in ${d.seconds} s (${d.mbPerSecond} MB/s); RSS ${d.rssBeforeMb} → peak ${d.rssPeakMb} MB (+${d.rssGrowthMb} MB)`,
      );
    }
    console.log(
      `target RSS growth ≤ ${TARGET_RSS_GROWTH_MB} MB: ${worst <= TARGET_RSS_GROWTH_MB ? 'met' : 'MISSED'} (worst +${worst} MB)`,
    );
    console.log(`\nresult: ${writeResult('recording', report.at, report)}`);
    if (!complete) process.exitCode = 1;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await destroyWorld(world);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
