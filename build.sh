#!/usr/bin/env bash
# PimPortal's one entry point for developers and CI.
#
#   ./build.sh run     serve the portal on the embedded default (http://localhost:5080)
#   ./build.sh bench   run the benchmarks (benchmarks/PimPortal.Benchmarks; a scenario name after it), with a throwaway
#                      PostgreSQL for the scenarios that need one; figures in docs/performance.md
#   ./build.sh test    run every test project; installs Chromium and PostgreSQL from Debian's packages when missing,
#                      starts a throwaway PostgreSQL, and ends with one line: "N passed, N failed, N skipped"
#   ./build.sh mutation  mutation testing of Core's Domain, Policy and Lifecycle (scripts/mutation.sh; folder names
#                      after it), with a throwaway PostgreSQL; slow, not part of the tests; figures in docs/security.md
set -euo pipefail
cd "$(dirname "$0")"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

ensure_packages() {
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "Installing from Debian's packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

free_port() {
    local port=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    echo "$port"
}

# A throwaway PostgreSQL cluster in a temporary directory, stopped and deleted on exit.
start_postgres() {
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PGDATA_DIR=$(mktemp -d /tmp/pimportal-pg.XXXXXX)
    PGPORT_FREE=$(free_port 55432)
    if [ "$(id -u)" -eq 0 ]; then
        # initdb refuses to run as root: the cluster belongs to Debian's postgres user.
        chown postgres:postgres "$PGDATA_DIR"
        PG_AS=(su postgres -s /bin/sh -c)
    else
        PG_AS=(sh -c)
    fi
    "${PG_AS[@]}" "$PGBIN/initdb -D $PGDATA_DIR/data -U postgres -A trust -E UTF8 --no-locale" >/dev/null
    "${PG_AS[@]}" "$PGBIN/pg_ctl -D $PGDATA_DIR/data -l $PGDATA_DIR/server.log -w -o '-p $PGPORT_FREE -k $PGDATA_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' start" >/dev/null
    trap stop_postgres EXIT
    export PIM_TEST_POSTGRES="Host=127.0.0.1;Port=$PGPORT_FREE;Username=postgres"
    echo "Throwaway PostgreSQL on 127.0.0.1:$PGPORT_FREE ($PGDATA_DIR)"
}

stop_postgres() {
    "${PG_AS[@]}" "$PGBIN/pg_ctl -D $PGDATA_DIR/data -m fast -w stop" >/dev/null 2>&1 || true
    rm -rf "$PGDATA_DIR"
}

# Adds up the <Counters> of every .trx: "N passed, N failed, N skipped".
summarize() {
    local passed=0 failed=0 skipped=0 counters
    for trx in TestResults/*.trx; do
        [ -f "$trx" ] || continue
        counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
        get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
        passed=$((passed + $(get passed)))
        failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
        skipped=$((skipped + $(get notExecuted)))
    done
    echo "$passed passed, $failed failed, $skipped skipped"
}

case "${1:-}" in
    run)
        shift
        exec dotnet run --project PimPortal "$@"
        ;;
    test)
        shift
        ensure_packages
        start_postgres
        dotnet tool restore >/dev/null
        rm -rf TestResults
        status=0
        dotnet test --no-ansi --no-progress --results-directory TestResults --report-xunit-trx --timeout 20m "$@" || status=$?
        summarize
        exit "$status"
        ;;
    bench)
        shift
        ensure_packages
        start_postgres
        dotnet run -c Release --project benchmarks/PimPortal.Benchmarks -- "$@"
        ;;
    mutation)
        shift
        ensure_packages
        start_postgres
        scripts/mutation.sh "$@"
        ;;
    *)
        echo "usage: ./build.sh run [--urls http://…] | ./build.sh test | ./build.sh bench [scenario] | ./build.sh mutation [folder…]" >&2
        exit 2
        ;;
esac
