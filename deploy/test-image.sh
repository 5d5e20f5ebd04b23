#!/bin/sh
# test-image.sh — build the CPU image (deploy/Dockerfile) where no Docker engine
# runs and no image registry is reachable, then smoke-test it.  `make image`
# runs it (niced); it is long and CPU-heavy and not part of `make test`.
#
#   1. podman and debootstrap from Debian (installed when missing; run as root).
#   2. Base images localhost/debian:bookworm and localhost/debian:bookworm-slim,
#      made once with debootstrap from the Debian mirror apt uses and
#      `podman import`; later runs reuse them from podman's store.
#   3. podman build (vfs storage, chroot isolation, docker format so that
#      HEALTHCHECK is kept) -> $IMAGE.
#   4. podman run as the k8s manifests do (non-root, read-only root, no
#      capabilities, host network on loopback), wait for /v2/health/ready, run
#      the image's own HEALTHCHECK, POST a photo of a dog to /predict and expect
#      a dog in the answer.
#   5. Print the image size; remove the container and temporary files.  The
#      image and the build cache stay (PRUNE=1 drops the cache).
#
# Environment: IMAGE (default localhost/detectd:latest), PORT (default: a free
# one), DEBIAN_MIRROR (default: apt's), REBUILD_BASE=1, FETCH_MODELS=auto|npm
# (see deploy/Dockerfile), JOBS (make -j in the build, default 2), PRUNE=1.
set -eu
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/detectd:latest}
BASE=localhost/debian
CNAME=detectd-smoke-$$
PHOTO=/usr/share/darknet/data/dog.jpg
PODMAN="podman --storage-driver=vfs --cgroup-manager=cgroupfs"
TMP=""
started=""

say() { echo "test-image: $*"; }
die() { echo "test-image: FAIL: $*" >&2; exit 1; }

cleanup() {
  if [ -n "$started" ]; then
    $PODMAN logs "$CNAME" > "${TMP:-/tmp}/container.log" 2>&1 || true
    $PODMAN rm -f -t 10 "$CNAME" >/dev/null 2>&1 || true
  fi
  [ -z "$TMP" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "run as root (podman with vfs storage and debootstrap need it)"
[ -f "$PHOTO" ] || die "$PHOTO missing (Debian package darknet: sh tools/install-deps.sh)"
TMP=$(mktemp -d /var/tmp/detectd-image.XXXXXX)

# ---- 1. tools ------------------------------------------------------------------
missing=""
command -v podman >/dev/null 2>&1 || missing="$missing podman"
command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
if [ -n "$missing" ]; then
  say "installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# ---- 2. base images ------------------------------------------------------------
# The first URI of apt's sources that ends in /$1 (debian or debian-security).
apt_uri() {
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && cat "$f"
  done | awk '/^deb[ \t]/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; break } }
              /^URIs:/ { for (i = 2; i <= NF; i++) print $i }' |
    grep -E "/$1/?\$" | head -n 1 | sed 's|/$||'
}

make_base() {
  mirror=${DEBIAN_MIRROR:-$(apt_uri debian)}
  mirror=${mirror:-http://deb.debian.org/debian}
  security=$(apt_uri debian-security)
  security=${security:-http://deb.debian.org/debian-security}
  root="$TMP/rootfs"
  say "debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase --components=main bookworm "$root" "$mirror" > "$TMP/debootstrap.log" 2>&1 ||
    { tail -n 20 "$TMP/debootstrap.log" >&2; die "debootstrap failed"; }
  # apt sources and cleaning as in Debian's official images.
  rm -f "$root/etc/apt/sources.list"
  cat > "$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log \
    "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
  import_rootfs() {
    tar --numeric-owner -C "$root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
      $PODMAN import --change 'CMD ["bash"]' - "$1" >/dev/null
    say "imported $1"
  }
  import_rootfs "$BASE:bookworm"
  # -slim: no documentation, manual pages or translations, now or later.
  cat > "$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/info/* "$root"/usr/share/groff/* "$root"/usr/share/lintian/* \
    "$root"/usr/share/linda/* "$root"/usr/share/locale/* "$root"/usr/share/man/*
  import_rootfs "$BASE:bookworm-slim"
  rm -rf "$root"
}

if [ "${REBUILD_BASE:-0}" = 1 ] || ! $PODMAN image exists "$BASE:bookworm" ||
   ! $PODMAN image exists "$BASE:bookworm-slim"; then
  make_base
else
  say "reusing $BASE:bookworm and $BASE:bookworm-slim (REBUILD_BASE=1 remakes them)"
fi

# ---- 3. build ------------------------------------------------------------------
if [ ! -f models/nanodet/nanodet.bin ]; then
  say "models/ not fetched here: the build fetches them from npm"
fi
say "podman build -f deploy/Dockerfile -t $IMAGE (this takes a while)"
start=$(date +%s)
nice -n 15 $PODMAN build --isolation=chroot --format docker \
  --build-arg BUILDER_IMAGE="$BASE:bookworm" --build-arg RUNTIME_IMAGE="$BASE:bookworm-slim" \
  --build-arg FETCH_MODELS="${FETCH_MODELS:-auto}" --build-arg JOBS="${JOBS:-2}" \
  -f deploy/Dockerfile -t "$IMAGE" . > "$TMP/build.log" 2>&1 ||
  { tail -n 40 "$TMP/build.log" >&2; die "podman build failed"; }
say "built $IMAGE in $(( $(date +%s) - start ))s"

# ---- 4. run and ask it ---------------------------------------------------------
if [ -z "${PORT:-}" ]; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
BASEURL="http://127.0.0.1:$PORT"
# Same restrictions as deploy/k8s/deployment.yaml: UID 10001, read-only root,
# no capabilities, no privilege gain; host network, bound to loopback only.
$PODMAN run -d --name "$CNAME" --network=host --read-only --tmpfs /tmp \
  --cap-drop=ALL --security-opt=no-new-privileges \
  -e REST_HOST=127.0.0.1 -e REST_PORT="$PORT" -e PROBABILITY_MORE=0.5 \
  "$IMAGE" > /dev/null || die "podman run failed"
started=1
say "container $CNAME on $BASEURL"

i=0
code=""
while :; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$BASEURL/v2/health/ready" || true)
  [ "$code" = 200 ] && break
  state=$($PODMAN inspect --format '{{.State.Status}}' "$CNAME" 2>/dev/null || echo gone)
  if [ "$state" != running ] || [ $i -ge 600 ]; then
    $PODMAN logs "$CNAME" 2>&1 | tail -n 30 >&2
    die "not ready (container $state, last status '$code')"
  fi
  sleep 0.5
  i=$((i + 1))
done
say "ready after ~$((i / 2))s"

$PODMAN healthcheck run "$CNAME" > /dev/null 2>&1 || die "the image's HEALTHCHECK reports unhealthy"
say "HEALTHCHECK (bash /dev/tcp on /v2/health/ready) healthy"

uid=$($PODMAN exec "$CNAME" id -u)
[ "$uid" = 10001 ] || die "runs as uid $uid, want 10001"
tools=$($PODMAN exec "$CNAME" sh -c 'command -v cc gcc make curl || true')
case "$tools" in *cc*|*make*|*curl*) die "runtime image has build tools: $tools" ;; esac
say "runs as uid $uid, no compiler, make or curl inside"

curl -s -o "$TMP/answer.json" -w '%{http_code}' -H 'Content-Type: image/jpeg' \
  --data-binary "@$PHOTO" "$BASEURL/predict" > "$TMP/code" || die "POST /predict failed"
[ "$(cat "$TMP/code")" = 200 ] || die "POST /predict: status $(cat "$TMP/code"): $(cat "$TMP/answer.json")"
python3 - "$TMP/answer.json" <<'PY' || die "no dog in the answer: $(cat "$TMP/answer.json")"
import json, sys
p = json.load(open(sys.argv[1]))["prediction"]
dogs = [o for o in p if o["objectClass"] == "dog"]
print("test-image: POST /predict dog.jpg ->", ", ".join("%s %.2f" % (o["objectClass"], o["probability"]) for o in p))
sys.exit(0 if dogs else 1)
PY

# ---- 5. report -----------------------------------------------------------------
bytes=$($PODMAN image inspect --format '{{.Size}}' "$IMAGE")
say "image $IMAGE: $bytes bytes ($(( (bytes + 524288) / 1048576 )) MiB)"
if [ "${PRUNE:-0}" = 1 ]; then
  $PODMAN image prune -f > /dev/null
  say "build cache pruned"
fi
say "pass"
