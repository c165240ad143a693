#!/usr/bin/env bash
# The README's first command: a running Switchboard to try out, from a fresh clone.
#
#   Postgres + Redis (scripts/ensure-services.sh) → npm ci when needed → npm run build → .env.demo
#   (dev secrets, made once) → the Ultravox simulator and the API + workers in the background → a demo
#   agency with an Ultravox key, an agent and an API key → a banner with URLs, credentials and curl
#   examples → the app log in the foreground until Ctrl-C or SIGTERM, which stops both processes.
#
# Safe to re-run: .env.demo and .demo/state.json are reused (same secrets, agency, agent and API key;
# a fresh 24 h token each time). A demo still running from this directory is stopped first. Works
# without a terminal too (`bash scripts/demo.sh > demo.out 2>&1 &`, stopped with SIGTERM).
#
# Settings: .env.demo (DATABASE_URL, REDIS_URL, JWT_SECRET, ENCRYPTION_KEY, BULL_BOARD_*) wins over the
# environment. The first run writes it, taking DATABASE_URL and REDIS_URL from the environment when
# they are set (default: postgres://postgres@127.0.0.1:5432/switchboard_demo, redis://127.0.0.1:6379),
# so later runs find what the first one stored. From the environment: PORT (3000), ULTRAVOX_SIM_PORT
# (4100), LOG_LEVEL and any other Switchboard variable; DEMO_START_TIMEOUT (seconds, default 90)
# bounds each start-up wait.
# Start over: stop the demo, `rm -rf .demo .env.demo`, `dropdb -h 127.0.0.1 -U postgres switchboard_demo`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DEMO_DIR=.demo
ENV_FILE=.env.demo
STATE=$DEMO_DIR/state.json
APP_LOG=$DEMO_DIR/app.log
SIM_LOG=$DEMO_DIR/sim.log
RESPONSE=$DEMO_DIR/response.json
START_TIMEOUT=${DEMO_START_TIMEOUT:-90}
AGENT_PHONE=+15550001111
APP_PID='' SIM_PID='' TAIL_PID=''

log() { echo "demo: $*"; }
die() {
  echo "demo: ERROR: $*" >&2
  exit 1
}

# ---- helpers -------------------------------------------------------------------------------------

# json PATH: reads JSON on stdin, prints the value at a dotted PATH ("" when absent).
json() {
  node -e '
    let s = "";
    process.stdin.on("data", (c) => (s += c)).on("end", () => {
      let v;
      try { v = JSON.parse(s); } catch { process.exit(0); }
      for (const k of process.argv[1].split(".")) v = v == null ? undefined : v[k];
      if (v != null) process.stdout.write(typeof v === "object" ? JSON.stringify(v) : String(v));
    });' "$1"
}

state_get() { if [ -f "$STATE" ]; then json "$1" < "$STATE"; fi; }

# state_set KEY VALUE [KEY VALUE...]: merges into .demo/state.json (owner-only: it holds the API key).
state_set() {
  node -e '
    const fs = require("fs");
    const [file, ...kv] = process.argv.slice(1);
    let s = {};
    try { s = JSON.parse(fs.readFileSync(file, "utf8")); } catch {}
    for (let i = 0; i < kv.length; i += 2) s[kv[i]] = kv[i + 1];
    fs.writeFileSync(file, JSON.stringify(s, null, 2) + "\n", { mode: 0o600 });' "$STATE" "$@"
}

# api METHOD PATH BEARER [JSON]: prints the HTTP status ("000" when unreachable); the body is in $RESPONSE.
api() {
  local args=(-sS --max-time 30 -o "$RESPONSE" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  if [ $# -ge 4 ]; then args+=(-H 'Content-Type: application/json' --data "$4"); fi
  : > "$RESPONSE"
  curl "${args[@]}" "$URL$2" 2> /dev/null || true
}

# expect STATUS GOT WHAT: dies with the response body unless the status matches.
expect() {
  [ "$2" = "$1" ] || die "$3 answered HTTP $2 (expected $1): $(head -c 1000 "$RESPONSE")"
}

cli() { node dist/src/cli.js "$@"; }

# shellcheck disable=SC2317 # called through wait_until
http_200() { [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$1" 2> /dev/null || true)" = 200 ]; }

port_open() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# is_ours PID PATTERN: the process is alive and its command line contains PATTERN (guards against pid reuse).
is_ours() {
  [ -n "$1" ] && kill -0 "$1" 2> /dev/null && ps -p "$1" -o args= 2> /dev/null | grep -q -- "$2"
}

# stop PID NAME: SIGTERM, then SIGKILL after 10 s.
stop() {
  local pid=$1 i
  kill -0 "$pid" 2> /dev/null || return 0
  log "stopping the $2 (pid $pid)"
  kill -TERM "$pid" 2> /dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2> /dev/null; then
    log "the $2 did not stop within 10 s: killing it"
    kill -KILL "$pid" 2> /dev/null || true
  fi
  wait "$pid" 2> /dev/null || true
}

# forget PIDFILE PID: removes the pid file if it still names PID (a newer demo may have replaced it).
forget() {
  if [ -n "$2" ] && [ "$(cat "$1" 2> /dev/null)" = "$2" ]; then rm -f "$1"; fi
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  if [ -n "$TAIL_PID" ]; then kill "$TAIL_PID" 2> /dev/null || true; fi
  if [ -n "$APP_PID" ]; then stop "$APP_PID" app; fi
  if [ -n "$SIM_PID" ]; then stop "$SIM_PID" simulator; fi
  forget "$DEMO_DIR/tail.pid" "$TAIL_PID"
  forget "$DEMO_DIR/app.pid" "$APP_PID"
  forget "$DEMO_DIR/sim.pid" "$SIM_PID"
  rm -f "$RESPONSE"
  exit "$status"
}

# start NAME LOG COMMAND...: runs COMMAND in the background with its output in LOG; sets STARTED_PID.
# In a session of its own where setsid exists, so a Ctrl-C reaches only this script, which then stops
# it once, cleanly.
start() {
  local name=$1 logfile=$2
  shift 2
  : > "$logfile"
  if command -v setsid > /dev/null 2>&1; then
    setsid "$@" >> "$logfile" 2>&1 < /dev/null &
  else
    "$@" >> "$logfile" 2>&1 < /dev/null &
  fi
  STARTED_PID=$!
  log "started the $name (pid $STARTED_PID, log $logfile)"
}

# wait_until NAME PID LOG CHECK...: polls CHECK until it succeeds; dies with the log's tail if PID exits
# or DEMO_START_TIMEOUT passes.
wait_until() {
  local name=$1 pid=$2 logfile=$3 deadline=$((SECONDS + START_TIMEOUT)) problem
  shift 3
  until "$@"; do
    problem=''
    kill -0 "$pid" 2> /dev/null || problem="the $name exited during start-up"
    [ "$SECONDS" -lt "$deadline" ] ||
      problem="the $name was not ready within ${START_TIMEOUT}s (set DEMO_START_TIMEOUT to wait longer)"
    if [ -n "$problem" ]; then
      echo "---- last lines of $logfile ----" >&2
      tail -n 40 "$logfile" >&2
      die "$problem"
    fi
    sleep 0.3
  done
}

# ---- steps ---------------------------------------------------------------------------------------

check_prerequisites() {
  command -v node > /dev/null 2>&1 || die "Node.js >= 20.19 is needed (https://nodejs.org)"
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
    die "Node.js >= 20.19 is needed (this is $(node -v))"
  command -v curl > /dev/null 2>&1 || die "curl is needed"
  mkdir -p "$DEMO_DIR"
  chmod 700 "$DEMO_DIR"
}

# A demo from this directory that is still running (another terminal, or killed with SIGKILL) is stopped.
stop_previous_demo() {
  local entry file pattern name pid
  for entry in "tail.pid:app.log:log tail" "app.pid:dist/src/main.js:app" "sim.pid:ultravox-sim/main.js:simulator"; do
    IFS=: read -r file pattern name <<< "$entry"
    pid=$(cat "$DEMO_DIR/$file" 2> /dev/null || true)
    if is_ours "$pid" "$pattern"; then
      log "a previous demo's $name is still running"
      stop "$pid" "$name"
    fi
    rm -f "$DEMO_DIR/$file"
  done
}

load_settings() {
  if [ ! -f "$ENV_FILE" ]; then
    log "writing $ENV_FILE with fresh development secrets (kept for later runs)"
    (
      umask 077
      node -e '
        const { randomBytes } = require("crypto");
        process.stdout.write([
          "# Switchboard demo settings: written once by scripts/demo.sh, reused by every later run so that",
          "# what the demo stored stays decryptable. Local development only; never commit this file.",
          "DATABASE_URL=" + (process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/switchboard_demo"),
          "REDIS_URL=" + (process.env.REDIS_URL || "redis://127.0.0.1:6379"),
          "JWT_SECRET=" + randomBytes(32).toString("hex"),
          "ENCRYPTION_KEY=" + randomBytes(32).toString("base64"),
          "BULL_BOARD_USERNAME=admin",
          "BULL_BOARD_PASSWORD=" + randomBytes(12).toString("hex"),
          "",
        ].join("\n"));' > "$ENV_FILE"
    )
    # What was stored under older secrets cannot be read with the new ones: start with a new agency.
    rm -f "$STATE"
  fi
  local line key
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    key=${line%%=*}
    [[ $key =~ ^[A-Z_][A-Z0-9_]*$ ]] || die "$ENV_FILE: cannot read the line: $line"
    export "$key=${line#*=}"
  done < "$ENV_FILE"

  export PORT=${PORT:-3000}
  export ULTRAVOX_SIM_PORT=${ULTRAVOX_SIM_PORT:-4100}
  export ULTRAVOX_SIM_HOST=127.0.0.1
  # What the demo needs whatever the environment says: every role in one process, on loopback, calling
  # the simulator, which calls the ingest URL back over plain http.
  export APP_ROLE=all HOST=127.0.0.1 WEBHOOK_ALLOW_PRIVATE_URLS=true
  export ULTRAVOX_API_BASE_URL=http://127.0.0.1:$ULTRAVOX_SIM_PORT
  export PUBLIC_BASE_URL=http://127.0.0.1:$PORT
  URL=$PUBLIC_BASE_URL
  SIM_URL=$ULTRAVOX_API_BASE_URL
}

install_and_build() {
  # TEST_* would take precedence in ensure-services.sh; the demo needs its own DATABASE_URL and REDIS_URL.
  env -u TEST_DATABASE_URL -u TEST_REDIS_URL bash scripts/ensure-services.sh
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing dependencies (npm ci)"
    SCARF_ANALYTICS=false npm ci --no-audit --no-fund
  else
    log "dependencies are up to date (node_modules is newer than package-lock.json)"
  fi
  log "building (npm run build)"
  npm run --silent build
}

start_processes() {
  if port_open "$ULTRAVOX_SIM_PORT"; then
    die "port $ULTRAVOX_SIM_PORT is in use; run with ULTRAVOX_SIM_PORT=<a free port> bash scripts/demo.sh"
  fi
  if port_open "$PORT"; then die "port $PORT is in use; run with PORT=<a free port> bash scripts/demo.sh"; fi

  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  start simulator "$SIM_LOG" node dist/tools/ultravox-sim/main.js
  SIM_PID=$STARTED_PID
  echo "$SIM_PID" > "$DEMO_DIR/sim.pid"
  wait_until simulator "$SIM_PID" "$SIM_LOG" http_200 "$SIM_URL/_sim/calls"

  start "app (API + workers)" "$APP_LOG" node --heap-growing-percent=100 dist/src/main.js
  APP_PID=$STARTED_PID
  echo "$APP_PID" > "$DEMO_DIR/app.pid"
  log "waiting for $URL/health (migrations run at start-up)"
  wait_until app "$APP_PID" "$APP_LOG" http_200 "$URL/health"
  log "the app is healthy"
}

# Sets TOKEN, AGENCY_ID and OWNER_EMAIL: the agency in .demo/state.json if it still exists, else a new one.
ensure_agency() {
  local out user_id email=owner@demo.test
  TOKEN=''
  user_id=$(state_get user_id)
  if [ -n "$user_id" ] && out=$(cli token --user "$user_id" 2> /dev/null); then
    TOKEN=$(json token <<< "$out")
    if [ "$(api GET /api/v1/integrations/api "$TOKEN")" = 200 ]; then
      log "reusing the demo agency $(state_get agency_id) (with a fresh token)"
    else
      TOKEN=''
    fi
  fi
  if [ -z "$TOKEN" ]; then
    if [ -f "$STATE" ]; then log "the agency in $STATE is gone (another database?): creating a new one"; fi
    rm -f "$STATE"
    if ! out=$(cli agency:create --name "Demo Agency" --owner-email "$email" 2> "$RESPONSE"); then
      grep -q 'already exists' "$RESPONSE" || die "agency:create failed: $(cat "$RESPONSE")"
      # That owner belongs to a demo agency whose state was lost: the new one needs another address.
      email="owner+$(date +%s)@demo.test"
      out=$(cli agency:create --name "Demo Agency" --owner-email "$email") || die "agency:create failed"
    fi
    TOKEN=$(json token <<< "$out")
    state_set agency_id "$(json agency_id <<< "$out")" user_id "$(json user_id <<< "$out")" owner_email "$email"
    log "created the demo agency $(state_get agency_id) (owner $email)"
  fi
  AGENCY_ID=$(state_get agency_id)
  OWNER_EMAIL=$(state_get owner_email)
}

# The simulator forgets everything when it stops, so the key is saved on every run: that registers the
# ingest webhook with the fresh simulator again. Sets INGEST_URL.
save_ultravox_key() {
  local key status
  key=$(state_get ultravox_api_key)
  if [ -z "$key" ]; then
    # The shape of a real key (8 + 32 alphanumerics), which the simulator accepts.
    key=$(node -e '
      const { randomBytes } = require("crypto");
      const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
      const alnum = (n) => Array.from(randomBytes(n), (b) => abc[b % 62]).join("");
      process.stdout.write("demo" + alnum(4) + "." + alnum(32));')
    state_set ultravox_api_key "$key"
  fi
  status=$(api POST /functions/v1/save-ultravox-integration "$TOKEN" \
    "{\"api_key\":\"$key\",\"register_webhook\":true}")
  expect 200 "$status" "POST /functions/v1/save-ultravox-integration"
  INGEST_URL=$(json webhook_url < "$RESPONSE")
  log "saved the simulator's Ultravox key and registered the ingest webhook"
}

# Sets AGENT_ID: the demo agent, created when missing, and the agency's default agent.
ensure_agent() {
  local status body
  AGENT_ID=$(state_get agent_id)
  if [ -z "$AGENT_ID" ] || [ "$(api GET "/api/v1/agents/$AGENT_ID" "$TOKEN")" != 200 ]; then
    body="{\"name\":\"Demo Agent\",\"ultravox_agent_id\":\"$(node -p 'require("crypto").randomUUID()')\","
    body+="\"phone_number\":\"$AGENT_PHONE\",\"telephony_provider\":\"twilio\"}"
    status=$(api POST /api/v1/agents "$TOKEN" "$body")
    expect 201 "$status" "POST /api/v1/agents"
    AGENT_ID=$(json data.id < "$RESPONSE")
    state_set agent_id "$AGENT_ID"
    log "created the demo agent $AGENT_ID"
  fi
  # The integration page's webhook_url points at the simulator's inbox, so call.completed lands somewhere real.
  status=$(api PATCH /api/v1/integrations/api "$TOKEN" \
    "{\"enabled\":true,\"default_agent_id\":\"$AGENT_ID\",\"webhook_url\":\"$SIM_URL/_sim/inbox/demo-agency\"}")
  expect 200 "$status" "PATCH /api/v1/integrations/api"
}

# Sets API_KEY. A new key revokes the previous one, so one is generated only when the stored one fails.
ensure_api_key() {
  local status
  API_KEY=$(state_get api_key)
  if [ -z "$API_KEY" ] || [ "$(api GET /api/v1/agents "$API_KEY")" != 200 ]; then
    status=$(api POST /api/v1/integrations/api/key "$TOKEN")
    expect 200 "$status" "POST /api/v1/integrations/api/key"
    API_KEY=$(json api_key < "$RESPONSE")
    state_set api_key "$API_KEY"
    log "generated the agency API key (kept in $STATE)"
  fi
  # For a second terminal: `source .demo/env.sh` defines what the curl examples use.
  (
    umask 077
    printf 'export URL=%q\nexport TOKEN=%q\nexport API_KEY=%q\nexport SIM_URL=%q\n' \
      "$URL" "$TOKEN" "$API_KEY" "$SIM_URL" > "$DEMO_DIR/env.sh"
  )
}

print_banner() {
  local trigger_note=''
  if ! curl -s --max-time 5 "$URL/docs-json" | grep -q '"/api/trigger-call"'; then
    trigger_note='  [not in this build yet: works once calls land]'
  fi
  cat << EOF

==================================================================================================
  Switchboard demo is running. Ctrl-C (or SIGTERM to pid $$) stops the app and the simulator.
==================================================================================================
  API            $URL
  Swagger UI     $URL/docs        ("Authorize": paste the token or the API key)
  OpenAPI JSON   $URL/docs-json
  Health         $URL/health
  Bull Board     $URL/admin/queues   user: $BULL_BOARD_USERNAME   password: $BULL_BOARD_PASSWORD
  Ultravox sim   $SIM_URL   (control API: $SIM_URL/_sim/calls, $SIM_URL/_sim/webhook-deliveries)

  Demo Agency    $AGENCY_ID   owner $OWNER_EMAIL
  Demo Agent     $AGENT_ID   caller id $AGENT_PHONE, the default agent
  Ingest URL     $INGEST_URL

  Dev token (JWT, agency_owner, valid 24 h):
    $TOKEN
  Agency API key (also in $STATE):
    $API_KEY

  Logs: $APP_LOG, $SIM_LOG   Settings: $ENV_FILE   State: $STATE

  Try it from another terminal in this directory, after: source $DEMO_DIR/env.sh

    # the agency's agents, with the API key
    curl -s \$URL/api/v1/agents -H "Authorization: Bearer \$API_KEY"

    # the Ultravox integration, with the dashboard token
    curl -s \$URL/api/v1/integrations/ultravox -H "Authorization: Bearer \$TOKEN"

    # a webhook receiver on 127.0.0.1:4200 that prints what it gets, and an endpoint pointing at it
    node -e 'require("http").createServer((q, s) => { let b = ""; q.on("data", (c) => (b += c)).on("end", () => { console.log(q.headers["webhook-id"], b); s.writeHead(204).end(); }); }).listen(4200, "127.0.0.1")' &
    curl -s -X POST \$URL/api/v1/webhooks -H "Authorization: Bearer \$API_KEY" -H 'Content-Type: application/json' \\
      -d '{"url":"http://127.0.0.1:4200/hooks","events":["call.started","call.completed","call.failed"]}'
    # with the webhookId it returned: send a signed webhook.test event, then read the delivery log
    curl -s -X POST \$URL/api/v1/webhooks/<webhookId>/test -H "Authorization: Bearer \$API_KEY"
    curl -s \$URL/api/v1/webhooks/<webhookId>/deliveries -H "Authorization: Bearer \$API_KEY"

    # an outbound AI call through the simulator (numbers ending in 0000: no answer, 0486: busy, 0666: unhappy callee)$trigger_note
    curl -s -X POST \$URL/api/trigger-call -H "Authorization: Bearer \$API_KEY" -H 'Content-Type: application/json' \\
      -d '{"phone":"+15551234567","name":"Ada","metadata":{"crm_id":"42"}}'
    # a few seconds later: the call with its transcript, and its signed call.completed in the delivery log
    curl -s \$URL/api/v1/calls -H "Authorization: Bearer \$API_KEY"
    curl -s \$URL/api/v1/integrations/api/deliveries -H "Authorization: Bearer \$API_KEY"
    # what the receiver (the simulator's inbox, set as the agency's webhook_url) was sent
    curl -s \$SIM_URL/_sim/inbox

==================================================================================================
  The app log ($APP_LOG) follows.
EOF
}

# Shows the app log until the app exits (an error) or a signal arrives (the traps stop everything).
follow_log() {
  if [ -x node_modules/.bin/pino-pretty ]; then
    tail -n 0 -f "$APP_LOG" > >(node_modules/.bin/pino-pretty --singleLine --translateTime SYS:HH:MM:ss.l \
      --ignore pid,hostname,req,res,responseTime \
      --messageFormat '{msg}{if req.method}: {req.method} {req.url}{end}{if res.statusCode} {res.statusCode}{end}{if responseTime} in {responseTime} ms{end}') &
  else
    tail -n 0 -f "$APP_LOG" &
  fi
  TAIL_PID=$!
  echo "$TAIL_PID" > "$DEMO_DIR/tail.pid"
  local status=0
  wait "$APP_PID" || status=$?
  forget "$DEMO_DIR/app.pid" "$APP_PID"
  APP_PID=''
  if [ "$status" -gt 128 ]; then die "the app was stopped from outside (signal $((status - 128)))"; fi
  echo "---- last lines of $APP_LOG ----" >&2
  tail -n 20 "$APP_LOG" >&2
  die "the app exited on its own (status $status)"
}

main() {
  check_prerequisites
  stop_previous_demo
  load_settings
  install_and_build
  start_processes
  ensure_agency
  save_ultravox_key
  ensure_agent
  ensure_api_key
  print_banner
  follow_log
}

# bash has read every function before this line runs, and main never returns (it ends by exiting), so
# editing or pulling this file while a demo runs cannot change the running demo.
main "$@"
