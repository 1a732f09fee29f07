#!/usr/bin/env bash
# The whole suite: SQLite and a throwaway PostgreSQL cluster on loopback, browser tests in
# headless Chromium. With CI=true a missing component is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v dovecot >/dev/null 2>&1 || need_apt+=(dovecot-imapd)
# WeasyPrint (the visa letter's PDF) loads pango at run time
for lib in libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0; do
  ldconfig -p 2>/dev/null | grep -q "${lib%%:*}" || need_apt+=("${lib##*:}")
done
if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need_apt[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "missing ${need_apt[*]}; run as root to install them" >&2
  fi
fi

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
PGTMP=""
cleanup() {
  if [ -n "$PGTMP" ] && [ -f "$PGTMP/data/postmaster.pid" ]; then
    run_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m fast -w -s stop || true
  fi
  [ -n "$PGTMP" ] && rm -rf "$PGTMP"
}
trap cleanup EXIT
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ]; then
  PGTMP=$(mktemp -d)
  [ "$(id -u)" = 0 ] && chown postgres: "$PGTMP"
  PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run_pg "$PGBIN/initdb" -D "$PGTMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  run_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/log" -w -s -o \
    "-p $PGPORT -c listen_addresses=127.0.0.1 -k $PGTMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start
  export CRM_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
  # lets a test restart the server under a running app (connections are pre-pinged)
  runner=""; [ "$(id -u)" = 0 ] && runner="runuser -u postgres --"
  export CRM_TEST_POSTGRES_RESTART="$runner $PGBIN/pg_ctl -D $PGTMP/data -l $PGTMP/log -m fast -w -s restart"
  echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"
fi

"$BIN/python" -m pytest -p no:cacheprovider "$@"
