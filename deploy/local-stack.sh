#!/usr/bin/env bash
# The ledger's production shape on one machine, without containers: PostgreSQL, two API
# processes on two ports and one background worker.
#
#     deploy/local-stack.sh start     start whatever is not running, then wait until all is ready
#     deploy/local-stack.sh status    what runs (exit 0 only if everything does)
#     deploy/local-stack.sh stop      stop the API processes, the worker and a throwaway cluster
#     deploy/local-stack.sh clean     stop, then delete the throwaway cluster (never the keys)
#
# `start` can be run again at any time: it starts only what is missing (e.g. a worker that
# died), so it is also the way to restart one process.
#
# Settings (environment):
#   LEDGER_DATABASE_URL   an existing PostgreSQL database, e.g. on the local server. Unset: a
#                         throwaway cluster is made with initdb in the state folder, listening
#                         on 127.0.0.1:$LEDGER_STACK_PG_PORT (default 54329), trust auth.
#   LEDGER_STACK_DIR      state folder: logs, process ids, keys, the throwaway cluster
#                         (default ./var/stack)
#   LEDGER_STACK_PORTS    the API ports (default "8001 8002"); the first one starts first and
#                         creates the tables on an empty database
#   LEDGER_STACK_HOST     the address the API processes listen on (default 127.0.0.1)
#   LEDGER_KEYS_DIR       the key ring (default: keys/ in the state folder, made on first start)
#   LEDGER_BIN            the ledger command (default: `ledger` on PATH, else .venv/bin/ledger)
# Every other LEDGER_* setting (LEDGER_ORIGIN, LEDGER_PUBLIC_URL, ...) reaches every process.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${LEDGER_STACK_DIR:-$ROOT/var/stack}"
PORTS="${LEDGER_STACK_PORTS:-8001 8002}"
HOST="${LEDGER_STACK_HOST:-127.0.0.1}"
PG_PORT="${LEDGER_STACK_PG_PORT:-54329}"
RUN="$STACK_DIR/run"
LOGS="$STACK_DIR/log"
START_TIMEOUT="${LEDGER_STACK_TIMEOUT:-120}"

if [ -n "${LEDGER_BIN:-}" ]; then
    LEDGER="$LEDGER_BIN"
elif command -v ledger >/dev/null 2>&1; then
    LEDGER="$(command -v ledger)"
else
    LEDGER="$ROOT/.venv/bin/ledger"
fi

say() { printf '%s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- processes -------------------------------------------------------------------------------

# Whether a process exists and has not exited (an exited child not yet reaped is a zombie).
alive() {
    local state
    state="$(ps -p "$1" -o stat= 2>/dev/null)" || return 1
    case "$state" in *Z*) return 1 ;; esac
}

# The process id in a pid file, if that process is alive and is the ledger.
running_pid() {
    local file="$1" pid
    [ -f "$file" ] || return 1
    pid="$(cat "$file")"
    [ -n "$pid" ] && alive "$pid" || return 1
    ps -p "$pid" -o command= 2>/dev/null | grep -q ledger || return 1
    printf '%s\n' "$pid"
}

# Starts "$@" in its own session with its output in a log file; writes its pid file.
# (Its own session: a Ctrl-C in the terminal that ran `start` does not reach the stack.)
launch() {
    local name="$1"; shift
    if command -v setsid >/dev/null 2>&1; then
        setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
    else
        "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
    fi
    printf '%s\n' "$!" >"$RUN/$name.pid"
}

http_ok() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
    else
        python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
            "$1" 2>/dev/null
    fi
}

# Whether anything accepts connections on $HOST:PORT.
port_taken() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Whether process PID itself listens on TCP PORT: on Linux, one of its sockets is that port's
# listening socket in /proc/net/tcp{,6}. Where that cannot be read, it is taken as yes.
listens_on() {
    local pid="$1" port="$2" listening fd link
    { [ -r /proc/net/tcp ] && [ -d "/proc/$pid/fd" ]; } || return 0
    listening=" $(awk -v port="$(printf ':%04X' "$port")" \
        'substr($2, length($2) - 4) == port && $4 == "0A" { printf "%s ", $10 }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null)"
    for fd in "/proc/$pid/fd/"*; do
        link="$(readlink "$fd" 2>/dev/null)" || continue
        case "$link" in
            "socket:["*"]") link="${link#socket:[}" ;;
            *) continue ;;
        esac
        case "$listening" in *" ${link%]} "*) return 0 ;; esac
    done
    return 1
}

# Waits until URL answers 200 while the process of pid file NAME stays alive; with PORT, until
# that process is also the one listening on it (not another program that answers there).
wait_for() {
    local name="$1" url="$2" port="${3:-}" deadline=$((SECONDS + START_TIMEOUT)) pid
    while :; do
        if ! pid="$(running_pid "$RUN/$name.pid")"; then
            tail -n 30 "$LOGS/$name.log" >&2 || true
            fail "$name exited while starting (log: $LOGS/$name.log)"
        fi
        if http_ok "$url" && { [ -z "$port" ] || listens_on "$pid" "$port"; }; then
            return 0
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "$url did not answer within ${START_TIMEOUT} s"
        sleep 0.2
    done
}

stop_pid_file() {
    local file="$1" name pid
    name="$(basename "$file" .pid)"
    if pid="$(running_pid "$file")"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 150); do
            alive "$pid" || break
            sleep 0.2
        done
        if alive "$pid"; then
            say "$name did not stop within 30 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped $name (pid $pid)"
    fi
    rm -f "$file"
}

# --- PostgreSQL ------------------------------------------------------------------------------

pg_bindir() {
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    elif command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
    else
        local found
        found="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null \
            | sort -V | tail -n 1)"
        [ -n "$found" ] \
            || fail "no PostgreSQL server programs (initdb) found; set LEDGER_DATABASE_URL"
        printf '%s\n' "$found"
    fi
}

# A PostgreSQL client program: from the server's folder, else from PATH.
pg_tool() {
    local bin
    bin="$(pg_bindir)"
    if [ -x "$bin/$1" ]; then
        printf '%s\n' "$bin/$1"
    else
        command -v "$1" || fail "no $1 found"
    fi
}

# Runs a PostgreSQL server program; as root, as the postgres user (the server refuses root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The throwaway cluster's folder (recorded at creation; as root it lies outside the state
# folder, where the postgres user can reach it).
pg_dir() {
    if [ -f "$RUN/pg.dir" ]; then
        cat "$RUN/pg.dir"
    fi
}

pg_running() {
    local dir
    dir="$(pg_dir)"
    [ -n "$dir" ] && [ -d "$dir/data" ] \
        && as_pg "$(pg_bindir)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

start_throwaway_postgres() {
    local bin dir
    bin="$(pg_bindir)"
    dir="$(pg_dir)"
    if [ -f "$RUN/pg.port" ]; then
        PG_PORT="$(cat "$RUN/pg.port")"
    fi
    if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
        if [ "$(id -u)" = 0 ]; then
            id postgres >/dev/null 2>&1 || fail "running as root needs a postgres user for initdb"
            dir="$(mktemp -d "${TMPDIR:-/tmp}/ledger-stack-pg.XXXXXX")"
            chown postgres "$dir"
        else
            dir="$STACK_DIR/pg"
            mkdir -p "$dir"
        fi
        chmod 0700 "$dir"
        printf '%s\n' "$dir" >"$RUN/pg.dir"
        printf '%s\n' "$PG_PORT" >"$RUN/pg.port"
        say "creating a throwaway PostgreSQL cluster in $dir"
        as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-instructions \
            >"$LOGS/initdb.log" 2>&1 || { cat "$LOGS/initdb.log" >&2; fail "initdb failed"; }
    fi
    if ! pg_running; then
        as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $dir -c synchronous_commit=on" \
            start >/dev/null \
            || { tail -n 30 "$dir/postgres.log" >&2; fail "PostgreSQL did not start"; }
        say "started PostgreSQL on 127.0.0.1:$PG_PORT"
    fi
    if ! "$(pg_tool psql)" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = 'ledger'" | grep -q 1; then
        "$(pg_tool createdb)" -h 127.0.0.1 -p "$PG_PORT" -U postgres ledger
    fi
    export LEDGER_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/ledger"
}

stop_throwaway_postgres() {
    local dir
    dir="$(pg_dir)"
    if pg_running; then
        as_pg "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
        say "stopped PostgreSQL ($dir)"
    fi
}

# --- commands --------------------------------------------------------------------------------

cmd_start() {
    mkdir -p "$RUN" "$LOGS"
    chmod 0700 "$STACK_DIR"
    [ -x "$LEDGER" ] || command -v "$LEDGER" >/dev/null 2>&1 \
        || fail "no ledger command at $LEDGER (make test builds .venv; or set LEDGER_BIN)"
    local ports=() port first
    read -r -a ports <<<"$PORTS"
    [ "${#ports[@]}" -ge 1 ] || fail "LEDGER_STACK_PORTS names no port"
    # A port some other program answers on: requests there would reach it, not the stack.
    for port in "${ports[@]}"; do
        running_pid "$RUN/api-$port.pid" >/dev/null || ! port_taken "$port" \
            || fail "port $port on $HOST is taken by another program; stop it or choose" \
                "other LEDGER_STACK_PORTS"
    done

    if [ -z "${LEDGER_DATABASE_URL:-}" ]; then
        start_throwaway_postgres
    fi
    export LEDGER_KEYS_DIR="${LEDGER_KEYS_DIR:-$STACK_DIR/keys}"
    export LEDGER_DATA_DIR="${LEDGER_DATA_DIR:-$STACK_DIR/data}"
    first="${ports[0]}"
    export LEDGER_PUBLIC_URL="${LEDGER_PUBLIC_URL:-http://$HOST:$first}"
    if [ ! -f "$LEDGER_KEYS_DIR/keyring.json" ]; then
        "$LEDGER" keys init
    fi

    # The first API process alone until it answers: it creates the tables on an empty database.
    for port in "${ports[@]}"; do
        if ! running_pid "$RUN/api-$port.pid" >/dev/null; then
            launch "api-$port" \
                env LEDGER_RUN_WORKER=0 "$LEDGER" serve --host "$HOST" --port "$port" --quiet
            say "started API on http://$HOST:$port (pid $(cat "$RUN/api-$port.pid"))"
        fi
        if [ "$port" = "$first" ]; then
            wait_for "api-$port" "http://$HOST:$port/healthz" "$port"
        fi
    done
    if ! running_pid "$RUN/worker.pid" >/dev/null; then
        launch worker "$LEDGER" worker
        say "started worker (pid $(cat "$RUN/worker.pid"))"
    fi
    for port in "${ports[@]}"; do
        wait_for "api-$port" "http://$HOST:$port/readyz" "$port"
    done
    running_pid "$RUN/worker.pid" >/dev/null \
        || { tail -n 30 "$LOGS/worker.log" >&2; fail "the worker exited (log: $LOGS/worker.log)"; }
    say "ready: ${#ports[@]} API processes and 1 worker; logs in $LOGS"
}

cmd_status() {
    local file pid name all=0
    for file in "$RUN"/api-*.pid "$RUN"/worker.pid; do
        [ -e "$file" ] || continue
        name="$(basename "$file" .pid)"
        if pid="$(running_pid "$file")"; then
            say "$name: running (pid $pid)"
        else
            say "$name: not running"
            all=3
        fi
    done
    if [ -n "$(pg_dir)" ]; then
        if pg_running; then
            say "postgresql: running ($(pg_dir))"
        else
            say "postgresql: stopped"
            all=3
        fi
    fi
    return "$all"
}

cmd_stop() {
    local file
    for file in "$RUN"/api-*.pid; do
        [ -e "$file" ] && stop_pid_file "$file"
    done
    [ -e "$RUN/worker.pid" ] && stop_pid_file "$RUN/worker.pid"
    stop_throwaway_postgres
    return 0
}

cmd_clean() {
    local dir
    cmd_stop
    dir="$(pg_dir)"
    if [ -n "$dir" ] && [ -d "$dir" ]; then
        rm -rf "$dir"
        say "deleted the throwaway cluster $dir"
    fi
    rm -f "$RUN/pg.dir" "$RUN/pg.port"
}

case "${1:-}" in
    start) cmd_start ;;
    status) cmd_status ;;
    stop) cmd_stop ;;
    clean) cmd_clean ;;
    *)
        sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
