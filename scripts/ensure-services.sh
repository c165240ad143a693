#!/usr/bin/env bash
# Makes sure the Postgres and Redis that Switchboard (and its e2e tests) use are answering.
# Idempotent and non-interactive: when both already answer it only checks and returns.
#
# Targets, first set wins:
#   Postgres: TEST_DATABASE_URL, DATABASE_URL, postgres://postgres@127.0.0.1:5432
#   Redis:    TEST_REDIS_URL,    REDIS_URL,    redis://127.0.0.1:6379
# A target on a non-local host is only waited for; a local one is installed (Debian packages) and
# started when needed. ENSURE_SERVICES_TIMEOUT (seconds, default 60) bounds each wait.
set -euo pipefail

PG_URL=${TEST_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}
REDIS_URL_=${TEST_REDIS_URL:-${REDIS_URL:-redis://127.0.0.1:6379}}
TIMEOUT=${ENSURE_SERVICES_TIMEOUT:-60}

log() { echo "ensure-services: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root to run: $*"
  fi
}

# url_host URL / url_port URL DEFAULT: host and port of scheme://[user[:pw]@]host[:port][/...]
url_authority() {
  local rest=${1#*://}
  rest=${rest%%[/?#]*}
  echo "${rest##*@}"
}
url_host() {
  local auth
  auth=$(url_authority "$1")
  if [[ $auth == \[* ]]; then
    auth=${auth#[}
    echo "${auth%%]*}"
  else
    echo "${auth%%:*}"
  fi
}
url_port() {
  local auth port
  auth=$(url_authority "$1")
  auth=${auth##*]}
  port=${auth##*:}
  if [[ $auth == *:* && -n $port ]]; then echo "$port"; else echo "$2"; fi
}
is_local() {
  case "$1" in
    '' | 127.0.0.1 | localhost | ::1) return 0 ;;
    *) return 1 ;;
  esac
}

PG_HOST=$(url_host "$PG_URL")
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=$(url_port "$PG_URL" 5432)
RD_HOST=$(url_host "$REDIS_URL_")
RD_HOST=${RD_HOST:-127.0.0.1}
RD_PORT=$(url_port "$REDIS_URL_" 6379)
# Connect to the local services over TCP on 127.0.0.1 (what the app does), never a socket.
if is_local "$PG_HOST"; then PG_LOCAL=1 PG_HOST=127.0.0.1; else PG_LOCAL=0; fi
if is_local "$RD_HOST"; then RD_LOCAL=1 RD_HOST=127.0.0.1; else RD_LOCAL=0; fi

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

pg_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
  else
    tcp_open "$PG_HOST" "$PG_PORT"
  fi
}

redis_up() {
  if command -v redis-cli >/dev/null 2>&1; then
    local tls=()
    [[ $REDIS_URL_ == rediss://* ]] && tls=(--tls)
    # -u carries any password in the URL; an answer other than PONG (NOAUTH, LOADING) is not ready.
    [ "$(timeout 3 redis-cli "${tls[@]}" -u "$REDIS_URL_" -h "$RD_HOST" -p "$RD_PORT" ping 2>/dev/null)" = PONG ]
  else
    tcp_open "$RD_HOST" "$RD_PORT"
  fi
}

wait_for() { # name check-function target
  local deadline=$((SECONDS + TIMEOUT))
  until "$2"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$1 at $3 did not answer within ${TIMEOUT}s (set ENSURE_SERVICES_TIMEOUT to wait longer)"
    fi
    sleep 1
  done
  log "$1 is up at $3"
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "cannot install $* here: no apt-get (install it yourself)"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq >&2
    APT_UPDATED=1
  fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

pg_version() { find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1; }

ensure_postgres_running() {
  local ver
  ver=$(pg_version)
  if [ -z "$ver" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt_install postgresql
    ver=$(pg_version)
  fi
  [ -n "$ver" ] || die "postgresql is installed but /etc/postgresql has no cluster version"
  if [ ! -d "/etc/postgresql/$ver/main" ]; then
    log "creating Postgres cluster $ver/main"
    as_root pg_createcluster "$ver" main >&2
  fi
  # Exit 0 = running (it may still be starting up: the wait below covers that).
  if ! as_root pg_ctlcluster "$ver" main status >/dev/null 2>&1; then
    log "starting Postgres $ver/main"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2
  fi
}

# A fresh Debian cluster asks for a password on TCP; the default DATABASE_URL has none.
ensure_postgres_trust() {
  local err hba ver
  command -v psql >/dev/null 2>&1 || return 0
  err=$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -tAc 'select 1' 2>&1 >/dev/null) && return 0
  case "$err" in
    *password* | *authentication*) ;;
    *)
      log "warning: cannot connect as role postgres over TCP: $err"
      return 0
      ;;
  esac
  ver=$(pg_version)
  hba=/etc/postgresql/${ver}/main/pg_hba.conf
  if [ -z "$ver" ] || [ ! -f "$hba" ]; then
    die "role postgres needs a password on 127.0.0.1:$PG_PORT and no Debian pg_hba.conf was found to allow it"
  fi
  log "allowing passwordless TCP connections from 127.0.0.1 and ::1 in $hba"
  # The first matching line wins, so the trust lines go before every other rule.
  as_root sed -i '1i # added by switchboard scripts/ensure-services.sh\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >&2
  local deadline=$((SECONDS + TIMEOUT))
  until psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -tAc 'select 1' >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "role postgres still cannot connect to 127.0.0.1:$PG_PORT without a password"
    sleep 1
  done
}

ensure_redis_running() {
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  local dir=${TMPDIR:-/tmp}
  log "starting redis-server on 127.0.0.1:$RD_PORT (log: $dir/switchboard-redis.log)"
  # "-::1": also listen on ::1 when the host has IPv6 ("localhost" may resolve there first).
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$RD_PORT" --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/switchboard-redis.log" >&2
}

if [ "$PG_LOCAL" -eq 1 ]; then
  pg_up || ensure_postgres_running
fi
if [ "$RD_LOCAL" -eq 1 ]; then
  redis_up || ensure_redis_running
fi

wait_for Postgres pg_up "$PG_HOST:$PG_PORT"
if [ "$PG_LOCAL" -eq 1 ]; then
  ensure_postgres_trust
fi
wait_for Redis redis_up "$RD_HOST:$RD_PORT"
