#!/bin/sh
# The short version of tests/soak.sh (`make soak` runs 20,000 requests
# with a 2 % bound): after a warm-up, ~1,000 requests over every API and
# some error paths must not grow the server's resident memory by 10 % or
# more.  Uses the small helper model so it takes seconds.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOAK_MODEL=tiny SOAK_REQUESTS=${SOAK_REQUESTS:-1000} SOAK_WARMUP=${SOAK_WARMUP:-300} SOAK_MAX_GROWTH_PCT=10 \
  SOAK_ROUND_S=1 SOAK_CONC=4 exec sh "$ROOT/tests/soak.sh"
