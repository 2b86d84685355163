#!/usr/bin/env bash
# Smoke test of the container image (default localhost/pimportal:dev, from scripts/build-image.sh): checks its
# configuration, starts it with podman on a fresh /data volume, waits for /healthz, runs the image's own health
# check, signs in through it as a demo user (cookie jar + antiforgery token, as a browser does), checks a signed-in
# page and what landed in the volume, measures the cold start, then starts a second container — a redeploy, with
# a read-only root file system as in Kubernetes, trusting the reverse proxy — that must accept the same session.
# Exit 0 when every check passes; any failure exits non-zero with the container's log.
#
#   scripts/image-smoke.sh [IMAGE]                    SQLite on /data (the image's defaults)
#   PIM_SMOKE_DB=postgres scripts/image-smoke.sh      PostgreSQL, as deploy/compose.yaml runs it: a throwaway cluster
#                                                     from Debian's postgresql package, MigrateOnStart, the key ring
#                                                     encrypted with a certificate, two instances at once
#   PIM_SMOKE_NETWORK=host scripts/image-smoke.sh     skip the bridge network
#   PIM_SMOKE_ROOTLESS=USER scripts/image-smoke.sh    (as root) rootless podman: the image is copied into USER's
#                                                     storage (podman save/load) and the test runs as USER
#                                                     (SQLite only; USER needs /etc/subuid and /etc/subgid ranges)
#
# Runs as root (the image is in root's podman storage). What this machine (Debian 12, podman 4.3.1, no systemd,
# cgroup v1 "hybrid", root without CAP_SYS_RESOURCE) needed — each detected, so a normal host gets podman's defaults:
#   --runtime runc      crun 1.8 refuses a hybrid cgroup layout with a controller on the v2 hierarchy ("cgroups in
#                       hybrid mode not supported, drop all controllers from cgroupv2"); runc accepts it.
#   --ulimit nofile=H:H --ulimit nproc=N:N   podman asks for 1048576 open files by default and lowers its own nproc
#                       to 32768; without CAP_SYS_RESOURCE the runtime cannot raise either ("setrlimit RLIMIT_NOFILE:
#                       Operation not permitted"), so the current hard limits are passed instead.
#   iptables (package)  netavark's bridge network needs the iptables command ("netavark: No such file or directory").
# Periodic health checks are systemd timers in podman; without systemd podman logs "unable to get systemd connection"
# and schedules none, so the script runs the HEALTHCHECK itself with `podman healthcheck run`. When the bridge
# network cannot be set up the script says so and falls back to --network=host (Urls=http://127.0.0.1:PORT).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${1:-${PIM_IMAGE:-localhost/pimportal:dev}}
DB=${PIM_SMOKE_DB:-sqlite}
USER_EMAIL=${PIM_SMOKE_USER:-alice@contoso.test}
USER_PASSWORD=${PIM_SMOKE_PASSWORD:-Demo-pass-2026!}   # the README's demo password: a demo account, not a secret
NETWORK=${PIM_SMOKE_NETWORK:-bridge}
TIMEOUT_S=${PIM_SMOKE_TIMEOUT:-180}

now_ms() { date +%s%3N; }
pass() { printf 'ok   %s\n' "$*"; }
note() { printf 'note %s\n' "$*" >&2; }
fail() { printf 'FAIL %s\n' "$*" >&2; exit 1; }
quiet() { "$@" 2>&1 >/dev/null | grep -v 'systemd connection' >&2 || true; }   # podman's no-systemd timer noise
free_port() {
    local port=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || [ "$port" = "${taken:-}" ]; do port=$((port + 1)); done
    echo "$port"
}

command -v podman >/dev/null || fail "podman is not installed (scripts/build-image.sh installs it)"
command -v curl >/dev/null || fail "curl is needed on the host"
case "$DB" in sqlite|postgres) ;; *) fail "PIM_SMOKE_DB is sqlite or postgres, not $DB";; esac
ROOTLESS=false
if [ -n "${PIM_SMOKE_ROOTLESS:-}" ] && [ "$(id -u)" -eq 0 ]; then
    # Re-run this script as the rootless user, with the image copied into that user's storage.
    [ "$DB" = sqlite ] || fail "the rootless run is SQLite only"
    rl_user=$PIM_SMOKE_ROOTLESS
    id "$rl_user" >/dev/null 2>&1 || fail "no user $rl_user"
    grep -q "^$rl_user:" /etc/subuid && grep -q "^$rl_user:" /etc/subgid || fail "$rl_user has no /etc/subuid and /etc/subgid range"
    podman image exists "$IMAGE" || fail "no image $IMAGE: run scripts/build-image.sh first"
    archive=$(mktemp /tmp/pimportal-rootless.XXXXXX.tar)
    podman save --quiet --format docker-archive -o "$archive" "$IMAGE" && chmod 0644 "$archive"
    rl_uid=$(id -u "$rl_user")
    rc=0
    su - "$rl_user" -s /bin/bash -c "export XDG_RUNTIME_DIR=/tmp/pimportal-xdg-$rl_uid; mkdir -p -m 0700 \$XDG_RUNTIME_DIR;
        podman load -q -i '$archive' 2>&1 | grep -v 'not a shared mount' >&2;
        PIM_SMOKE_AS_ROOTLESS=1 PIM_SMOKE_NETWORK='$NETWORK' PIM_SMOKE_TIMEOUT='$TIMEOUT_S' '$(pwd)/scripts/image-smoke.sh' '$IMAGE'" || rc=$?
    rm -f "$archive"
    exit $rc
fi
if [ "$(id -u)" -ne 0 ]; then
    [ -n "${PIM_SMOKE_AS_ROOTLESS:-}" ] || fail "run as root (the image is in root's podman storage), or PIM_SMOKE_ROOTLESS=USER as root"
    [ "$DB" = sqlite ] || fail "the rootless run is SQLite only"
    ROOTLESS=true
fi
podman image exists "$IMAGE" || fail "no image $IMAGE: run scripts/build-image.sh first"

name="pimportal-smoke-$$"
name2="pimportal-smoke2-$$"
volume="pimportal-smoke-data-$$"
work=$(mktemp -d /tmp/pimportal-smoke.XXXXXX)
jar="$work/cookies.txt"
PG_DIR=""
cleanup() {
    local rc=$?
    if [ $rc -ne 0 ]; then
        for c in "$name" "$name2"; do
            podman container exists "$c" 2>/dev/null || continue
            echo "---- $c log (last 30 lines) ----" >&2
            podman logs --tail 30 "$c" >&2 2>&1 || true
        done
    fi
    podman rm -f -t 5 "$name" "$name2" >/dev/null 2>&1 || true
    podman volume rm -f "$volume" >/dev/null 2>&1 || true
    if [ -n "$PG_DIR" ]; then
        su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $PG_DIR/data -m fast -w stop" >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT

# --- 1. The image's configuration ------------------------------------------------------------------------------
inspect() { podman image inspect --format "$1" "$IMAGE"; }
user=$(inspect '{{.Config.User}}')
case "${user%%:*}" in ""|0|root) fail "image user is '${user:-<unset>}' (root)";; esac
pass "user $user (not root)"
inspect '{{json .Config.ExposedPorts}}' | grep -q '"8080/tcp"' || fail "8080/tcp not exposed: $(inspect '{{json .Config.ExposedPorts}}')"
pass "exposed ports $(inspect '{{json .Config.ExposedPorts}}')"
entrypoint=$(inspect '{{json .Config.Entrypoint}}')
[ "$entrypoint" = '["dotnet","PimPortal.dll"]' ] || fail "entrypoint is $entrypoint"
pass "entrypoint $entrypoint, working directory $(inspect '{{.Config.WorkingDir}}')"
inspect '{{json .Config.Volumes}}' | grep -q '"/data"' || fail "no /data volume: $(inspect '{{json .Config.Volumes}}')"
pass "volumes $(inspect '{{json .Config.Volumes}}')"
healthcheck=$(inspect '{{json .HealthCheck}}')
echo "$healthcheck" | grep -q '"probe"' || fail "no probe health check: $healthcheck"
pass "health check $(echo "$healthcheck" | tr -d '\n' | cut -c1-110)"
env_list=$(inspect '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')
# A secret-looking variable name, or a connection string or URL carrying a password.
if echo "$env_list" | grep -Eiq '^[^=]*(PASSWORD|SECRET|TOKEN|APIKEY|API_KEY|PRIVATE|CREDENTIAL)[^=]*=|(password|pwd)=|://[^/@]+:[^/@]+@'; then
    fail "secret-looking environment in the image: $(echo "$env_list" | grep -Ei 'PASSWORD|SECRET|TOKEN|KEY|PRIVATE|CREDENTIAL|pwd=|@')"
fi
for expected in 'Urls=http://+:8080' 'ConnectionStrings__Pim=Data Source=/data/pimportal.db' 'Pim__Audit__ArchiveDirectory=/data/audit-archive'; do
    echo "$env_list" | grep -qxF "$expected" || fail "environment lacks $expected"
done
pass "environment: $(echo "$env_list" | wc -l) variables, none secret-looking; Urls, ConnectionStrings__Pim and the archive on /data"
size=$(inspect '{{.Size}}')
pass "image size $((size / 1000000)) MB"

# --- 2. Host quirks and the database ------------------------------------------------------------------------------
run_args=(--volume "$volume:/data" -e Pim__Demo__Seed=true)
flags_note=()
runtime=${PIM_SMOKE_RUNTIME:-}
if [ -z "$runtime" ] && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ] && [ "$(podman info --format '{{.Host.OCIRuntime.Name}}')" = crun ]; then
    command -v runc >/dev/null || fail "crun cannot run on this hybrid cgroup layout and runc is not installed (apt-get install runc)"
    runtime=runc
fi
if [ -n "$runtime" ]; then run_args+=(--runtime "$runtime"); flags_note+=("--runtime $runtime"); fi
cap_eff=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
if (( (0x$cap_eff >> 24 & 1) == 0 )); then   # bit 24: CAP_SYS_RESOURCE
    nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
    { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
    run_args+=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
    flags_note+=("--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc")
fi
# The address the host has on podman's bridge: what a container reaches the host at, and the source address of the
# connections the host makes to a published port (the "reverse proxy" in step 6).
gateway=$(podman network inspect podman --format '{{range .Subnets}}{{.Gateway}}{{end}}' 2>/dev/null || echo 10.88.0.1)

if [ "$DB" = postgres ]; then
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_DIR=$(mktemp -d /tmp/pimportal-smoke-pg.XXXXXX)
    pg_port=$(free_port 55532)
    pg_password=$(openssl rand -hex 16)
    chown postgres:postgres "$PG_DIR"
    echo "$pg_password" >"$PG_DIR/pw"; chown postgres "$PG_DIR/pw"
    su postgres -s /bin/sh -c "$PG_BIN/initdb -D $PG_DIR/data -U pim --pwfile=$PG_DIR/pw -A scram-sha-256 -E UTF8 --no-locale" >/dev/null
    rm -f "$PG_DIR/pw"
    subnet=$(podman network inspect podman --format '{{range .Subnets}}{{.Subnet}}{{end}}' 2>/dev/null || echo 10.88.0.0/16)
    echo "host pim pim $subnet scram-sha-256" >>"$PG_DIR/data/pg_hba.conf"   # the containers on podman's bridge
    # Listening on every address (the bridge's appears with the first container), on a free port, password only.
    su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $PG_DIR/data -l $PG_DIR/server.log -w -o \"-p $pg_port -k $PG_DIR -c listen_addresses='*' -c fsync=off\" start" >/dev/null
    PGPASSWORD=$pg_password "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U pim -d postgres -qc 'CREATE DATABASE pim' >/dev/null
    pg_host=$gateway; [ "$NETWORK" = host ] && pg_host=127.0.0.1
    # The key ring in a shared database is encrypted with a certificate: a PEM pair, mounted read-only.
    install -d -m 0750 -o 1654 -g 1654 "$work/dataprotection"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=pimportal-dataprotection \
        -keyout "$work/dataprotection/dataprotection.key" -out "$work/dataprotection/dataprotection.pem" 2>/dev/null
    chown 1654:1654 "$work/dataprotection"/*; chmod 0400 "$work/dataprotection"/*
    run_args+=(-e Pim__Database__Provider=PostgreSql -e Pim__Database__MigrateOnStart=true
        -e "ConnectionStrings__Pim=Host=$pg_host;Port=$pg_port;Database=pim;Username=pim;Password=$pg_password"
        --volume "$work/dataprotection:/run/secrets/pimportal:ro"
        -e Pim__DataProtection__CertificatePath=/run/secrets/pimportal/dataprotection.pem)
    pass "throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $pg_port (reached at $pg_host), key ring certificate mounted"
fi

# --- 3. Start it (cold: a fresh volume, a new container) --------------------------------------------------------
# Host network: the app listens on the port itself; 8080 when free, so the image's HEALTHCHECK URL still matches.
if [ "$NETWORK" = host ]; then port=$(free_port 8080); else port=$(free_port 18080); fi
podman volume create "$volume" >/dev/null
start_container() {   # start_container NAME PORT [extra podman arguments…]
    local cname=$1 cport=$2; shift 2
    if [ "$NETWORK" = host ]; then
        podman run --detach --name "$cname" "${run_args[@]}" "$@" --network host -e "Urls=http://127.0.0.1:$cport" \
            -e "Pim__PublicUrl=http://127.0.0.1:$cport" "$IMAGE"
    else
        podman run --detach --name "$cname" "${run_args[@]}" "$@" --publish "127.0.0.1:$cport:8080" \
            -e "Pim__PublicUrl=http://127.0.0.1:$cport" "$IMAGE"
    fi
}
wait_for_page() {   # wait_for_page CONTAINER URL: until the URL answers 200
    local deadline=$(( $(date +%s) + TIMEOUT_S ))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$2" || true)" = 200 ]; do
        [ "$(podman inspect --format '{{.State.Running}}' "$1")" = true ] || fail "$1 exited: $(podman inspect --format '{{.State.ExitCode}}' "$1")"
        [ "$(date +%s)" -lt "$deadline" ] || fail "no 200 from $2 within ${TIMEOUT_S}s"
        sleep 0.05
    done
}
t0=$(now_ms)
if ! start_container "$name" "$port" >"$work/run.out" 2>&1; then
    if [ "$NETWORK" != host ] && grep -Eqi 'netavark|iptables|nftables|network|slirp|rootlessport' "$work/run.out"; then
        note "podman run with the bridge network failed here: $(grep -v 'systemd connection' "$work/run.out" | tail -n 2 | tr '\n' ' ')"
        note "falling back to --network=host (the app listening on the port itself)"
        podman rm -f "$name" >/dev/null 2>&1 || true
        NETWORK=host
        port=$(free_port 8080)
        [ "$DB" = postgres ] && run_args=("${run_args[@]/Host=$gateway;/Host=127.0.0.1;}")
        t0=$(now_ms)
        start_container "$name" "$port" >"$work/run.out" 2>&1 || fail "podman run --network=host failed: $(cat "$work/run.out")"
    else
        fail "podman run failed: $(cat "$work/run.out")"
    fi
fi
t_started=$(now_ms)
base="http://127.0.0.1:$port"
pass "container $name started ($NETWORK network, 127.0.0.1:$port -> 8080; flags: ${flags_note[*]:-none}), podman run returned in $((t_started - t0)) ms"

# First 200 of /signin: the cold start of the image to the first page (migrations and the demo seed included).
wait_for_page "$name" "$base/signin"
cold_ms=$(( $(now_ms) - t0 ))
pass "first 200 of /signin ${cold_ms} ms after podman run ($(podman logs "$name" 2>&1 | grep -o 'Database ready:.*' | head -n 1))"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")
[ "$code" = 200 ] || fail "/healthz answered $code"
pass "/healthz 200 (anonymous)"
code=$(curl -s -o "$work/ready.json" -w '%{http_code}' "$base/healthz/ready")
case "$code" in
    200) pass "/healthz/ready 200: $(tr -d '\n' <"$work/ready.json" | cut -c1-160)…";;
    404) note "/healthz/ready answers 404: this build has no readiness endpoint";;
    *) fail "/healthz/ready answered $code: $(cat "$work/ready.json")";;
esac
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/")
[ "$code" = 302 ] || fail "/ without a session answered $code, not a redirect to /signin"
pass "/ without a session: 302 to the sign-in page"

# --- 4. The image's own health check, run inside the container (no curl in the image) --------------------------
if podman exec "$name" dotnet PimPortal.dll probe http://localhost:8080/healthz >"$work/probe.out" 2>&1; then
    pass "probe inside the container: $(tr -d '\n' <"$work/probe.out")"
elif [ "$NETWORK" = host ] && [ "$port" != 8080 ]; then
    note "--network=host on port $port: the probe's http://localhost:8080 is not this container; skipped"
else
    fail "probe inside the container failed: $(cat "$work/probe.out")"
fi
if podman exec "$name" dotnet PimPortal.dll probe http://localhost:8081/healthz >"$work/probe.out" 2>&1; then
    fail "probe of a port nobody listens on exited 0: $(cat "$work/probe.out")"
else
    pass "probe of a port nobody listens on exits non-zero: $(tr -d '\n' <"$work/probe.out")"
fi
# `podman healthcheck run` runs the image's HEALTHCHECK command as podman would on its schedule.
if [ "$NETWORK" = host ] && [ "$port" != 8080 ]; then
    note "--network=host on port $port: the HEALTHCHECK's fixed http://localhost:8080 does not match; skipped"
else
    health=$(podman healthcheck run "$name" 2>&1 | grep -v 'systemd connection' || true)
    status=$(podman inspect --format '{{.State.Health.Status}}' "$name")
    [ "$status" = healthy ] || fail "podman healthcheck run: $status ${health}"
    pass "podman healthcheck run (the image's HEALTHCHECK): $status"
fi

# --- 5. Sign in through the container, as a browser does --------------------------------------------------------
t_signin=$(now_ms)
curl -s -c "$jar" -b "$jar" -o "$work/signin.html" "$base/signin"
field() { grep -o "<input[^>]*name=\"$1\"[^>]*>" "$work/signin.html" | head -n 1 | sed -n 's/.*value="\([^"]*\)".*/\1/p'; }
token=$(field __RequestVerificationToken)
handler=$(field _handler)
[ -n "$token" ] || fail "no __RequestVerificationToken on /signin"
email_field=$(grep -o '<input[^>]*id="email"[^>]*>' "$work/signin.html" | sed -n 's/.*name="\([^"]*\)".*/\1/p')
password_field=$(grep -o '<input[^>]*id="password"[^>]*>' "$work/signin.html" | sed -n 's/.*name="\([^"]*\)".*/\1/p')
[ -n "$email_field" ] && [ -n "$password_field" ] || fail "sign-in form fields not found"
status=$(curl -s -c "$jar" -b "$jar" -o "$work/post.html" -w '%{http_code} %{redirect_url}' \
    --data-urlencode "__RequestVerificationToken=$token" --data-urlencode "_handler=${handler:-signin}" \
    --data-urlencode "$email_field=$USER_EMAIL" --data-urlencode "$password_field=$USER_PASSWORD" "$base/signin")
case "$status" in 302*) ;; *) fail "sign-in POST answered $status ($(grep -o 'auth-error[^<]*<' "$work/post.html" || true))";; esac
grep -q 'PimPortal.Session' "$jar" || fail "no session cookie after signing in"
code=$(curl -s -b "$jar" -o "$work/home.html" -w '%{http_code}' "$base/")
[ "$code" = 200 ] || fail "/ with the session answered $code"
grep -q '<title>My roles' "$work/home.html" || fail "/ is not the My roles page"
grep -q "$USER_EMAIL" "$work/home.html" || fail "/ does not show $USER_EMAIL as signed in"
signin_ms=$(( $(now_ms) - t_signin ))
pass "signed in as $USER_EMAIL (form fields $email_field, $password_field, _handler=${handler:-signin}): POST $status; / is My roles for $USER_EMAIL (${signin_ms} ms)"

# --- 6. The volume, the process user, and an untrusted proxy -------------------------------------------------------
mountpoint=$(podman volume inspect --format '{{.Mountpoint}}' "$volume")
# The volume's files as the container's user owns them (rootless: through podman's user namespace).
vol() { if $ROOTLESS; then podman unshare "$@"; else "$@"; fi; }
vol test -d "$mountpoint/audit-archive" || fail "no audit-archive directory in the /data volume"
if [ "$DB" = sqlite ]; then
    vol test -s "$mountpoint/pimportal.db" || fail "no pimportal.db in the /data volume ($mountpoint): $(vol ls -la "$mountpoint")"
    owner=$(vol stat -c '%u:%g' "$mountpoint/pimportal.db")
    [ "$owner" = "${user%%:*}:${user##*:}" ] || fail "pimportal.db is owned by $owner, not the image's user $user"
    pass "/data volume: pimportal.db ($(vol du -k "$mountpoint/pimportal.db" | cut -f1) KB, owner $owner), audit-archive/ ($(vol ls "$mountpoint" | tr '\n' ' '))"
else
    [ ! -e "$mountpoint/pimportal.db" ] || fail "a SQLite file appeared in /data although the database is PostgreSQL"
    keys=$(PGPASSWORD=$pg_password "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U pim -d pim -Atc 'SELECT count(*) FROM "DataProtectionKeys"')
    plain=$(PGPASSWORD=$pg_password "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U pim -d pim -Atc \
        "SELECT count(*) FROM \"DataProtectionKeys\" WHERE \"Xml\" NOT LIKE '%<encryptedSecret%'")
    [ "$keys" -ge 1 ] && [ "$plain" = 0 ] || fail "key ring in PostgreSQL: $keys keys, $plain not encrypted"
    pass "PostgreSQL holds the data and $keys Data Protection key(s), each encrypted with the certificate; /data: $(ls "$mountpoint" | tr '\n' ' ')"
fi
proc_user=$(podman top "$name" user huser | awk 'NR == 2 { print $1 " (host uid " $2 ")" }')
case "$proc_user" in root*|0\ *) fail "the portal runs as $proc_user";; esac
pass "the portal's process runs as $proc_user"
# Without ForwardedHeaders:KnownProxies the portal must not believe a client's X-Forwarded-Proto.
location=$(curl -s -o /dev/null -w '%{redirect_url}' -H 'X-Forwarded-Proto: https' "$base/")
case "$location" in http://*) pass "X-Forwarded-Proto from an unknown address ignored (redirect to $location)";;
    *) fail "X-Forwarded-Proto from an unknown address believed: $location";; esac
mem=$(podman stats --no-stream --format '{{.MemUsage}}' "$name" 2>/dev/null || echo "n/a")

# --- 7. A second container on the same volume ------------------------------------------------------------------------
# What a redeploy (SQLite: the first one stopped) or a second replica (PostgreSQL: both running) does, with the root
# file system read-only and /tmp a tmpfs as the Kubernetes manifests run it, trusting the "proxy" that connects from
# the bridge's gateway. It must accept alice's session cookie: the Data Protection key ring is in the database.
stop_ms=""
if [ "$DB" = sqlite ]; then
    t_stop=$(now_ms)
    quiet podman stop -t 30 "$name"
    stop_ms=$(( $(now_ms) - t_stop ))
    exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
    [ "$exit_code" = 0 ] || fail "the portal exited $exit_code on SIGTERM"
    pass "first container stopped with SIGTERM in ${stop_ms} ms, exit code 0"
    port2=$port
else
    taken=$port
    port2=$(free_port $((port + 1)))
fi
# Where the "proxy" (curl on the host) connects from, as the container sees it: the bridge's gateway (rootful), the
# address slirp4netns's port forwarder uses (rootless), or loopback (host network).
proxy=$gateway
if [ "$NETWORK" = host ]; then proxy=127.0.0.1; elif $ROOTLESS; then proxy=10.0.2.100; fi
t0=$(now_ms)
start_container "$name2" "$port2" --read-only --tmpfs /tmp:rw,nosuid,nodev,size=64m \
    -e "ForwardedHeaders__KnownProxies__0=$proxy" >"$work/run2.out" 2>&1 || fail "second podman run failed: $(cat "$work/run2.out")"
base2="http://127.0.0.1:$port2"
wait_for_page "$name2" "$base2/signin"
warm_ms=$(( $(now_ms) - t0 ))
pass "second container ($([ "$DB" = sqlite ] && echo "after the first" || echo "beside the first")), read-only root + tmpfs /tmp: first 200 of /signin in ${warm_ms} ms ($(podman logs "$name2" 2>&1 | grep -o 'Database ready:.*' | head -n 1))"
podman logs "$name2" 2>&1 | grep -q 'demo seeded: True' && fail "the second container seeded the demo again"
code=$(curl -s -b "$jar" -o "$work/home2.html" -w '%{http_code}' "$base2/")
[ "$code" = 200 ] && grep -q "$USER_EMAIL" "$work/home2.html" \
    || fail "alice's session cookie was not accepted by the second container ($code): the key ring is not shared"
pass "alice's session from the first container is accepted by the second (the key ring is in the database)"
location=$(curl -s -o /dev/null -w '%{redirect_url}' -H 'Host: pim.example.test' -H 'X-Forwarded-Proto: https' "$base2/")
hsts=$(curl -s -D - -o /dev/null -H 'Host: pim.example.test' -H 'X-Forwarded-Proto: https' "$base2/signin" | grep -i '^strict-transport-security' | tr -d '\r' || true)
case "$location" in https://pim.example.test/*) ;; *) fail "X-Forwarded-Proto from the known proxy $proxy not honoured: $location";; esac
[ -n "$hsts" ] || fail "no Strict-Transport-Security behind the known proxy"
pass "behind the known proxy $proxy: redirect to $location, $hsts"
if [ "$DB" = postgres ]; then
    quiet podman stop -t 30 "$name"
fi
t_stop=$(now_ms)
quiet podman stop -t 30 "$name2"
stop2_ms=$(( $(now_ms) - t_stop ))
[ "$(podman inspect --format '{{.State.ExitCode}}' "$name2")" = 0 ] || fail "the second container exited $(podman inspect --format '{{.State.ExitCode}}' "$name2") on SIGTERM"
pass "second container stopped with SIGTERM in ${stop2_ms} ms, exit code 0"

echo
echo "image $IMAGE: $((size / 1000000)) MB; database $DB; $($ROOTLESS && echo "rootless ($(id -un))" || echo rootful); network $NETWORK$($ROOTLESS && echo " (slirp4netns)"); storage $(podman info --format '{{.Store.GraphDriverName}}'); podman flags: ${flags_note[*]:-none}"
echo "cold start (podman run to first 200 of /signin, fresh volume and database: migrations + demo seed): ${cold_ms} ms"
echo "second container (same data, read-only root, to first 200 of /signin): ${warm_ms} ms"
echo "sign-in round trip (GET /signin, POST, GET /): ${signin_ms} ms; memory after sign-in: $mem; stop: ${stop_ms:-$stop2_ms} ms"
echo "image smoke test passed"
