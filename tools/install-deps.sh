#!/bin/sh
# install-deps.sh — install the Debian and npm packages detectd needs, only
# what is missing (fast when everything is there).  Run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."
PKGS="build-essential pkg-config clang libclang-rt-14-dev valgrind
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev python3-onnx python3-numpy
  libjansson-dev libmicrohttpd-dev libturbojpeg0-dev libjpeg62-turbo-dev libspng-dev
  libwebp-dev libfreetype-dev fonts-dejavu-core darknet nodejs npm curl
  chromium python3-pil python3-yaml
  wrk openssl"
missing=""
for p in $PKGS; do
  # nodejs/npm may come from elsewhere (nodesource): accept a working binary.
  case $p in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: installing$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# npm packages: the default models and the reference runtimes (test oracles).
if [ ! -f node_modules/.detectd-stamp ] || [ package.json -nt node_modules/.detectd-stamp ]; then
  echo "install-deps: npm install (models + oracles)"
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
  touch node_modules/.detectd-stamp
fi
