#!/usr/bin/env bash
# The whole suite (npm test). Vitest runs the files one at a time on this 2-core class of machine;
# the five-minute end-to-end run (test/e2e, issue #7) mostly waits on a plant running in real time,
# so it runs beside the rest in a second Vitest process instead of adding its five minutes to the
# end. Its output is printed when both are done; the exit code fails if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
e2e_log="$(mktemp -t edgewarden-e2e.XXXXXX)"
trap 'rm -f "$e2e_log"' EXIT
npx vitest run test/e2e >"$e2e_log" 2>&1 &
e2e_pid=$!
npx vitest run --exclude 'test/e2e/**' "$@"
main_status=$?
wait "$e2e_pid"
e2e_status=$?
echo "== end to end (test/e2e), run beside the suite:"
cat "$e2e_log"
if [ "$main_status" -ne 0 ] || [ "$e2e_status" -ne 0 ]; then
  echo "== failed: suite exit $main_status, end to end exit $e2e_status" >&2
  exit 1
fi
