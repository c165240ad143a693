/**
 * Preload for profiling the API under a benchmark (`--api-node-args="-r ./dist/bench/common/profile-exit.js
 * --cpu-prof --cpu-prof-dir=/tmp/prof"`): Nest's shutdown hook re-raises SIGTERM after closing the app,
 * which kills the process before `--cpu-prof` writes its profile. This listener stays registered, so the
 * re-raised signal lands here and the process exits normally (and writes the profile) shortly after.
 */
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 2_000).unref());
