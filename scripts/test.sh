#!/usr/bin/env bash
# Runs every test project and ends with one "N passed, N failed" line over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test Skiff.slnx --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
# A project that does not compile runs no test: count each as a failure so the line cannot read clean.
broken=$(grep -cE ' error CS[0-9]+' "$log" || true)
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=$(( broken > 0 ? broken : 1 ))
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
