#!/usr/bin/env bash
# Builds the PimPortal container image on this machine from Debian's packages only — no container registry, no
# base image pulled: a debootstrapped minimal Debian 12 root, the .NET runtime of the SDK already installed here,
# and a `dotnet publish` of the working tree. The result is the same shape as PimPortal/Dockerfile's image
# (/app, `dotnet PimPortal.dll`, user 1654, port 8080, /data volume, the probe health check) and is committed as
# localhost/pimportal:dev in root's podman/buildah storage.
#
#   scripts/build-image.sh                 build (or rebuild) localhost/pimportal:dev
#   PIM_IMAGE_ARCHIVE=out.tar scripts/build-image.sh   also write a docker-archive (`podman load -i out.tar`)
#
# Cache (not in the repository): $PIM_IMAGE_CACHE, default /var/tmp/pimportal-image — the debootstrapped root,
# the source snapshot and the publish output. The base image (Debian root + runtime deps + user + .NET runtime,
# localhost/pimportal-base:<key>) is rebuilt only when its inputs change, so a re-run is a publish and one layer.
# Needs root (debootstrap, buildah mount); installs debootstrap, buildah and podman with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

CACHE=${PIM_IMAGE_CACHE:-/var/tmp/pimportal-image}
IMAGE=${PIM_IMAGE:-localhost/pimportal:dev}
SUITE=bookworm
MIRROR=${PIM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
APP_UID=1654
# Bump when the base image recipe below changes (it is part of the base image's cache key).
BASE_RECIPE=2
# What the .NET 10 runtime needs on Debian 12 (the list Microsoft's runtime-deps images install: libc6, libgcc-s1
# and libstdc++6 for the host and runtime, libicu for globalization — the app keeps InvariantGlobalization=false —,
# libssl3 for TLS and crypto, ca-certificates for outbound TLS (Graph, SMTP, PostgreSQL), tzdata for time zones).
# zlib is no longer needed: .NET 9+ carries its own (zlib-ng).
RUNTIME_DEPS=(ca-certificates libc6 libgcc-s1 libicu72 libssl3 libstdc++6 tzdata)

log() { printf '==> %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }
t_start=$(now_ms)

if [ "$(id -u)" -ne 0 ]; then
    echo "build-image.sh needs root (debootstrap and buildah mount); run it with sudo" >&2
    exit 1
fi

# --- 1. Tools, from Debian's packages -------------------------------------------------------------------------
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v buildah >/dev/null || need+=(buildah)
command -v podman >/dev/null || need+=(podman)
# crun (podman's runtime) and runc (for hosts with a hybrid cgroup layout, which crun 1.8 refuses); netavark,
# aardvark-dns and iptables (which netavark calls) for podman's bridge network; fuse-overlayfs, uidmap and
# slirp4netns for rootless podman. --no-install-recommends keeps out the rest, so each is named.
for pkg in crun runc netavark aardvark-dns iptables fuse-overlayfs uidmap slirp4netns; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    log "Installing from Debian's packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }

mkdir -p "$CACHE"

# --- 2. The minimal Debian root (cached) ----------------------------------------------------------------------
# Keyed on the suite and package list; a root that exists with the same key is reused as is.
rootfs_key=$(printf '%s ' "$SUITE" "${RUNTIME_DEPS[@]}" | sha256sum | cut -c1-12)
rootfs="$CACHE/rootfs-$SUITE-$rootfs_key"
if [ ! -f "$rootfs/.pimportal-rootfs-done" ]; then
    log "debootstrap --variant=minbase $SUITE (with ${RUNTIME_DEPS[*]}) into $rootfs"
    rm -rf "$rootfs.tmp"
    deps=$(IFS=,; echo "${RUNTIME_DEPS[*]}")
    nice -n 19 debootstrap --variant=minbase --include="$deps" "$SUITE" "$rootfs.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
        || { tail -n 30 "$CACHE/debootstrap.log" >&2; exit 1; }
    # Trim what a runtime image does not use: package caches and lists, documentation, man pages, translations, logs.
    rm -rf "$rootfs.tmp"/var/cache/apt/* "$rootfs.tmp"/var/lib/apt/lists/* "$rootfs.tmp"/var/cache/debconf/*-old \
        "$rootfs.tmp"/usr/share/doc/* "$rootfs.tmp"/usr/share/man/* "$rootfs.tmp"/usr/share/info/* \
        "$rootfs.tmp"/usr/share/locale/* "$rootfs.tmp"/var/log/* "$rootfs.tmp"/debootstrap
    # The non-root user the portal runs as: uid/gid 1654 "app", as in Microsoft's .NET images; no login shell.
    echo "app:x:$APP_UID:$APP_UID:PimPortal:/home/app:/usr/sbin/nologin" >>"$rootfs.tmp/etc/passwd"
    echo "app:x:$APP_UID:" >>"$rootfs.tmp/etc/group"
    echo "app:!:19000:0:99999:7:::" >>"$rootfs.tmp/etc/shadow"
    install -d -o $APP_UID -g $APP_UID -m 0755 "$rootfs.tmp/home/app"
    # The volume: the SQLite file (and its -wal/-shm) and the audit archive; owned by app, nobody else may read it.
    install -d -o $APP_UID -g $APP_UID -m 0750 "$rootfs.tmp/data" "$rootfs.tmp/data/audit-archive"
    # Nothing machine-specific: debootstrap copies the host's resolv.conf and hostname; podman provides both at run.
    : >"$rootfs.tmp/etc/resolv.conf"; : >"$rootfs.tmp/etc/hostname"; rm -f "$rootfs.tmp/etc/machine-id"; : >"$rootfs.tmp/etc/machine-id"
    touch "$rootfs.tmp/.pimportal-rootfs-done"
    rm -rf "$rootfs"
    mv "$rootfs.tmp" "$rootfs"
else
    log "Reusing the Debian root $rootfs"
fi

# --- 3. The base image: Debian root + the .NET runtime from this machine's SDK (cached) ------------------------
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
netcore=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/10.* | sort -V | tail -n 1)
aspnet=$(ls -d "$dotnet_root"/shared/Microsoft.AspNetCore.App/10.* | sort -V | tail -n 1)
runtime_version=$(basename "$netcore")
[ "$(basename "$aspnet")" = "$runtime_version" ] || { echo "ASP.NET Core $(basename "$aspnet") and .NET $runtime_version differ" >&2; exit 1; }
hostfxr=$(ls -d "$dotnet_root"/host/fxr/* | sort -V | tail -n 1)
base_key=$(printf '%s ' "$BASE_RECIPE" "$rootfs_key" "$runtime_version" "$(basename "$hostfxr")" | sha256sum | cut -c1-12)
base_image="localhost/pimportal-base:$base_key"
if ! buildah inspect --type image "$base_image" >/dev/null 2>&1; then
    log "Building the base image $base_image (Debian $SUITE minbase + .NET $runtime_version runtime)"
    ctr=$(buildah from --format docker scratch)
    trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
    mnt=$(buildah mount "$ctr")
    cp -a "$rootfs"/. "$mnt"/
    rm -f "$mnt/.pimportal-rootfs-done"
    # Only the runtime — host, hostfxr and the two shared frameworks — not the SDK, packs or templates.
    install -d "$mnt/usr/share/dotnet/shared" "$mnt/usr/share/dotnet/host"
    cp -a "$dotnet_root/dotnet" "$dotnet_root/LICENSE.txt" "$dotnet_root/ThirdPartyNotices.txt" "$mnt/usr/share/dotnet/"
    install -d "$mnt/usr/share/dotnet/host/fxr" "$mnt/usr/share/dotnet/shared/Microsoft.NETCore.App" "$mnt/usr/share/dotnet/shared/Microsoft.AspNetCore.App"
    cp -a "$hostfxr" "$mnt/usr/share/dotnet/host/fxr/"
    cp -a "$netcore" "$mnt/usr/share/dotnet/shared/Microsoft.NETCore.App/"
    cp -a "$aspnet" "$mnt/usr/share/dotnet/shared/Microsoft.AspNetCore.App/"
    ln -sf /usr/share/dotnet/dotnet "$mnt/usr/bin/dotnet"
    buildah umount "$ctr" >/dev/null
    buildah config --os linux --arch amd64 \
        --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --env DOTNET_RUNNING_IN_CONTAINER=true --env DOTNET_VERSION="$runtime_version" --env ASPNET_VERSION="$runtime_version" \
        --label org.opencontainers.image.base.name="debian:$SUITE-minbase (debootstrap)" \
        --label io.pimportal.base-key="$base_key" "$ctr"
    buildah commit --quiet --format docker --rm "$ctr" "$base_image" >/dev/null
    trap - EXIT
else
    log "Reusing the base image $base_image"
fi

# --- 4. The application: dotnet publish of a snapshot of the working tree ---------------------------------------
# A snapshot (tracked and untracked, not ignored, files) keeps this build's obj/ and bin/ away from the tree's own.
src="$CACHE/src"
log "Snapshot of the working tree into $src"
mkdir -p "$src"
git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$src" -xf -
# Files removed from the tree since the last snapshot go from it too (bin/ and obj/ are kept for incremental builds).
(cd "$src" && find . -type f -not -path '*/bin/*' -not -path '*/obj/*' -print0) | while IFS= read -r -d '' f; do
    [ -e "$repo/$f" ] || rm -f "$src/$f"
done
publish="$CACHE/publish"
rm -rf "$publish"
# linux-x64, framework-dependent: the runtime is the base image's; the RID leaves out other platforms' native files.
log "dotnet publish -c Release -r linux-x64 --self-contained false"
t_pub=$(now_ms)
nice -n 19 dotnet publish "$src/PimPortal/PimPortal.csproj" -c Release -o "$publish" -r linux-x64 --self-contained false -p:UseAppHost=false --disable-build-servers \
    -nologo -v:q >"$CACHE/publish.log" 2>&1 || { tail -n 40 "$CACHE/publish.log" >&2; exit 1; }
publish_ms=$(( $(now_ms) - t_pub ))
# Development settings and debug symbols stay out of the image.
rm -f "$publish"/appsettings.Development.json "$publish"/*.pdb

# --- 5. The application image ----------------------------------------------------------------------------------
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain 2>/dev/null)" ] || revision="$revision-dirty"
log "Building $IMAGE from $base_image"
ctr=$(buildah from --format docker --pull-never "$base_image")
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt=$(buildah mount "$ctr")
install -d -m 0755 "$mnt/app"
# The application is root-owned and read-only to the app user; only /data (and /tmp) are written.
cp -a "$publish"/. "$mnt/app/"
chown -R 0:0 "$mnt/app"
chmod -R u=rwX,go=rX "$mnt/app"
buildah umount "$ctr" >/dev/null
# The same configuration as PimPortal/Dockerfile. `Urls` (not only ASPNETCORE_HTTP_PORTS): appsettings.json sets
# Urls=http://localhost:5080, and configuration from appsettings.json outranks ASPNETCORE_-prefixed variables, so the
# port is set with the unprefixed key, which outranks it.
buildah config \
    --user "$APP_UID:$APP_UID" \
    --workingdir /app \
    --port 8080/tcp \
    --volume /data \
    --entrypoint '["dotnet", "PimPortal.dll"]' \
    --cmd '' \
    --stop-signal SIGTERM \
    --env ASPNETCORE_HTTP_PORTS=8080 \
    --env Urls=http://+:8080 \
    --env ASPNETCORE_ENVIRONMENT=Production \
    --env DOTNET_NOLOGO=true \
    --env ConnectionStrings__Pim="Data Source=/data/pimportal.db" \
    --env Pim__Database__Provider=Sqlite \
    --env Pim__Audit__ArchiveDirectory=/data/audit-archive \
    --env Pim__Mode=Embedded \
    --healthcheck 'CMD dotnet PimPortal.dll probe http://localhost:8080/healthz' \
    --healthcheck-interval 30s --healthcheck-timeout 10s --healthcheck-start-period 30s --healthcheck-retries 3 \
    --label org.opencontainers.image.title=PimPortal \
    --label org.opencontainers.image.description="Just-in-time privileged access portal (Blazor Server)" \
    --label org.opencontainers.image.revision="$revision" \
    --label org.opencontainers.image.created="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --label io.pimportal.build="scripts/build-image.sh (debootstrap $SUITE minbase, .NET $runtime_version)" \
    "$ctr"
# Docker format (here and in `buildah from`): the OCI image config has no HEALTHCHECK, so OCI format would drop it.
buildah commit --quiet --format docker --rm "$ctr" "$IMAGE" >/dev/null
trap - EXIT

if [ -n "${PIM_IMAGE_ARCHIVE:-}" ]; then
    log "Writing $PIM_IMAGE_ARCHIVE (docker-archive)"
    rm -f "$PIM_IMAGE_ARCHIVE"
    podman save --quiet --format docker-archive -o "$PIM_IMAGE_ARCHIVE" "$IMAGE"
fi

# Old app images (now dangling) are removed; base images of other keys too.
podman image prune -f >/dev/null 2>&1 || true
for old in $(podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/pimportal-base:' | grep -v ":$base_key$" || true); do
    podman rmi "$old" >/dev/null 2>&1 || true
done

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "image $IMAGE: $(( size / 1000000 )) MB ($size bytes; base $(( $(podman image inspect --format '{{.Size}}' "$base_image") / 1000000 )) MB, app layer $(du -sm "$publish" | cut -f1) MB); publish ${publish_ms} ms; total $(( $(now_ms) - t_start )) ms"
