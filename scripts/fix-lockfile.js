// The npm registry mirror reachable here has no builds of msgpackr-extract (bullmq's optional native
// msgpack speed-up) for other platforms, so `npm install` leaves them out of package-lock.json and
// `npm ci` then refuses the lock. This adds the missing optional entries (never installed on Linux x64).
// Run after `npm install` changes the lock: node scripts/fix-lockfile.js
const fs = require('fs');
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
const platforms = {
  'darwin-arm64': ['darwin', 'arm64'],
  'darwin-x64': ['darwin', 'x64'],
  'linux-arm': ['linux', 'arm'],
  'win32-x64': ['win32', 'x64'],
};
const extract = lock.packages['node_modules/msgpackr-extract'];
let added = 0;
for (const [suffix, [os, cpu]] of Object.entries(platforms)) {
  const name = `node_modules/@msgpackr-extract/msgpackr-extract-${suffix}`;
  if (lock.packages[name] || !extract) continue;
  lock.packages[name] = { version: extract.version, cpu: [cpu], license: 'MIT', optional: true, os: [os] };
  added++;
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
fs.writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
console.log(`package-lock.json: added ${added} optional msgpackr-extract entries`);
