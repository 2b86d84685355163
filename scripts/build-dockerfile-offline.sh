#!/usr/bin/env bash
# Builds PimPortal/Dockerfile itself on a machine that reaches no container registry, to prove the Dockerfile (its
# stages, COPY --chown of /data, USER, VOLUME, HEALTHCHECK, ENTRYPOINT) rather than only the script-built image:
# the two Microsoft base images are replaced, through the Dockerfile's SDK_IMAGE and RUNTIME_IMAGE build arguments,
# by local stand-ins made from scripts/build-image.sh's Debian base (Debian 12 minbase + this machine's .NET runtime,
# user app = 1654 as in the chiseled image) — the SDK stand-in adds this machine's whole .NET SDK.
# The result, localhost/pimportal:dockerfile, is checked with scripts/image-smoke.sh.
#
#   scripts/build-dockerfile-offline.sh        then: scripts/image-smoke.sh localhost/pimportal:dockerfile
#
# What differs from a real build: the base images (Debian instead of Ubuntu chiseled, so a shell exists in the
# stand-in); the host's NuGet package folder is mounted into the RUN steps (restore downloads only what is missing)
# and the SDK stand-in carries the host's CA bundle; TARGETARCH is passed (buildah 1.28 does not set it; BuildKit
# does).
# Needs root; buildah flags for this machine as in scripts/image-smoke.sh (runc, ulimits), detected the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
now_ms() { date +%s%3N; }
t_start=$(now_ms)

base=$(podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/pimportal-base:' | head -n 1 || true)
if [ -z "$base" ]; then
    scripts/build-image.sh
    base=$(podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/pimportal-base:' | head -n 1)
fi

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
sdk_version=$(dotnet --version)
runtime_standin=localhost/pimportal-standin-aspnet:10.0
sdk_standin="localhost/pimportal-standin-sdk:$sdk_version"

podman tag "$base" "$runtime_standin"
if ! podman image exists "$sdk_standin"; then
    echo "==> SDK stand-in $sdk_standin: $base + $dotnet_root (SDK $sdk_version)" >&2
    ctr=$(buildah from --pull-never "$base")
    trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
    mnt=$(buildah mount "$ctr")
    rm -rf "$mnt/usr/share/dotnet"
    cp -a "$dotnet_root" "$mnt/usr/share/dotnet"
    # This stand-in (never the portal's image) trusts what the host trusts: the restore inside it may go through the
    # same TLS-inspecting egress proxy as the host's NuGet, whose CA is in the host's bundle only.
    cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
    buildah umount "$ctr" >/dev/null
    buildah config --user 0:0 --env DOTNET_CLI_TELEMETRY_OPTOUT=true --env DOTNET_NOLOGO=true \
        --env DOTNET_SKIP_FIRST_TIME_EXPERIENCE=true --env NUGET_CERT_REVOCATION_MODE="${NUGET_CERT_REVOCATION_MODE:-online}" "$ctr"
    buildah commit --quiet --rm "$ctr" "$sdk_standin" >/dev/null
    trap - EXIT
fi

flags=()
if [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ] && command -v runc >/dev/null; then
    flags+=(--runtime runc)   # crun refuses a hybrid cgroup layout with v2 controllers
fi
cap_eff=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
if (( (0x$cap_eff >> 24 & 1) == 0 )); then   # no CAP_SYS_RESOURCE: the current hard limits, not 1048576
    nproc=$(ulimit -Hu); { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
    flags+=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc")
fi

echo "==> buildah bud -f PimPortal/Dockerfile (SDK_IMAGE=$sdk_standin, RUNTIME_IMAGE=$runtime_standin; ${flags[*]:-no extra flags})" >&2
mkdir -p "$HOME/.nuget/packages"
t_bud=$(now_ms)
nice -n 19 buildah bud --pull-never --layers --format docker "${flags[@]}" \
    --volume "$HOME/.nuget/packages:/root/.nuget/packages" \
    --build-arg TARGETARCH="${PIM_TARGETARCH:-amd64}" --build-arg SDK_IMAGE="$sdk_standin" --build-arg RUNTIME_IMAGE="$runtime_standin" \
    --build-arg REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    -f PimPortal/Dockerfile -t localhost/pimportal:dockerfile . >/tmp/pimportal-bud.log 2>&1 \
    || { tail -n 40 /tmp/pimportal-bud.log >&2; exit 1; }
bud_ms=$(( $(now_ms) - t_bud ))
grep -E '^STEP|^COMMIT|Using cache' /tmp/pimportal-bud.log | cut -c1-150 >&2 || true
size=$(podman image inspect --format '{{.Size}}' localhost/pimportal:dockerfile)
echo "image localhost/pimportal:dockerfile: $((size / 1000000)) MB; buildah bud ${bud_ms} ms; total $(( $(now_ms) - t_start )) ms (log /tmp/pimportal-bud.log)"
