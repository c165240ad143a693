#!/usr/bin/env bash
# The one test command, for a fresh clone and for CI: services up, clean install, build, the static
# checks (scripts/check.sh: tsc, ESLint, Prettier, layer rules), every Jest project (unit and e2e).
# Extra arguments go to Jest (e.g. `--selectProjects unit`, a path filter).
#
# Progress goes to stderr; stdout gets one line, always the last: "N passed, N failed", where each
# failed check counts as one failed test. The exit status is 0 only when every check passed, Jest
# succeeded, at least one test ran and none failed. A setup step that fails, or a Jest that wrote no
# results, reports "0 passed, 1 failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

# Reads Jest's --json results (argv[1]). A suite that failed without a failed test (it did not compile,
# a hook threw, an import failed) counts as one failed test, so such a run never looks green; so does
# each failed static check (CHECKS_FAILED, set below).
SUMMARY_JS='
const fs = require("fs");
const checksFailed = Number(process.env.CHECKS_FAILED || 0);
let r;
try {
  r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
} catch (e) {
  console.error("test.sh: Jest wrote no results (" + String(e.message).split("\n")[0] + ")");
  console.log("0 passed, " + (1 + checksFailed) + " failed");
  process.exit(1);
}
const passed = r.numPassedTests || 0;
let failed = (r.numFailedTests || 0) + checksFailed;
for (const s of r.testResults || []) {
  const failedTests = (s.assertionResults || []).filter((a) => a.status === "failed").length;
  if (s.status === "failed" && failedTests === 0) {
    failed += 1;
    console.error("test.sh: suite failed to run: " + s.name);
  }
}
if (passed + failed === 0) {
  console.error("test.sh: no tests ran");
  failed = 1;
}
console.log(passed + " passed, " + failed + " failed");
process.exit(failed > 0 ? 1 : 0);
'

setup_failed() {
  echo "test.sh: $1 failed (exit $2)" >&2
  echo "0 passed, 1 failed"
  exit "$2"
}

bash scripts/ensure-services.sh >&2 || setup_failed "scripts/ensure-services.sh" $?
npm ci --no-audit --no-fund >&2 || setup_failed "npm ci" $?
npm run build >&2 || setup_failed "npm run build" $?
# Its exit status is the number of checks that failed; Jest runs either way.
bash scripts/check.sh >&2
export CHECKS_FAILED=$?

results_dir=$(mktemp -d)
trap 'rm -rf "$results_dir"' EXIT
results=$results_dir/jest-results.json

jest_args=(--json --outputFile="$results")
case "${CI:-}" in
  '' | false | 0) ;;
  *) jest_args+=(--ci) ;;
esac

./node_modules/.bin/jest "${jest_args[@]}" "$@" >&2
jest_status=$?

# The suite's wall time (set-up included), so a slower suite is noticed; stdout keeps its one line.
echo "test.sh: wall time ${SECONDS} s" >&2
node -e "$SUMMARY_JS" "$results"
summary_status=$?

if [ "$jest_status" -ne 0 ]; then
  [ "$summary_status" -eq 0 ] && echo "test.sh: every test passed but Jest exited $jest_status" >&2
  exit "$jest_status"
fi
exit "$summary_status"
