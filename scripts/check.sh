#!/usr/bin/env bash
# The static checks (`npm run check`; scripts/test.sh runs them after the build, before Jest):
#   typecheck  tsc --noEmit over src, test, tools and bench
#   lint       ESLint with zero warnings allowed
#   format     Prettier --check (`npm run format` fixes it)
#   layers     the house's layer rules (.dependency-cruiser.js, scripts/check-layers.mjs)
#   openapi    Redocly lint of the committed openapi.json (redocly.yaml), no error and no warning
#   client     clients/typescript: its types are those openapi.json generates, and it compiles
# Every check runs even when an earlier one failed. Output goes to stderr; the exit status is the number
# of checks that failed (0: all passed).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

# What Prettier checks: the code, the tools and scripts, and the root configuration files.
PRETTIER_FILES=('{src,test,tools,bench}/**/*.ts' 'clients/typescript/src/index.ts' 'scripts/**/*.{js,mjs}' '*.{js,mjs}' '.dependency-cruiser.js')

failed=()
run() {
  local name=$1
  shift
  echo "check: $name ($*)" >&2
  if "$@" >&2; then
    echo "check: $name passed" >&2
  else
    echo "check: $name FAILED" >&2
    failed+=("$name")
  fi
}

run typecheck ./node_modules/.bin/tsc --noEmit -p tsconfig.json
run lint ./node_modules/.bin/eslint . --max-warnings 0
run format ./node_modules/.bin/prettier --check "${PRETTIER_FILES[@]}"
run layers node scripts/check-layers.mjs
run openapi ./node_modules/.bin/redocly lint openapi.json --max-problems 50
run client bash -c 'npm run --silent client:types -- --check && ./node_modules/.bin/tsc -p clients/typescript --noEmit'

if [ "${#failed[@]}" -gt 0 ]; then
  echo "check: ${#failed[@]} of 6 checks failed: ${failed[*]}" >&2
else
  echo "check: all 6 checks passed" >&2
fi
exit "${#failed[@]}"
