#!/usr/bin/env bash
# Mutation testing with Stryker.NET (a local tool, dotnet-tools.json): mutates PimPortal.Core's Domain, Policy and
# Lifecycle code (scripts/stryker-config.json) and runs PimPortal.Tests against every mutant, with a throwaway
# PostgreSQL for the tests that need one. Slow (tens of minutes on 2 cores), so not part of ./build.sh test.
#
#   scripts/mutation.sh                  all three folders
#   scripts/mutation.sh Policy Domain    only these folders
#
# Prints the score by folder and the surviving mutants; the HTML and JSON reports are in
# TestResults/mutation/reports/. The figures go to docs/security.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PIM_TEST_POSTGRES:-}" ]; then
    exec "$root/build.sh" mutation "$@"
fi

cd "$root"
dotnet tool restore >/dev/null
args=()
for folder in "$@"; do
    args+=(--mutate "**/$folder/**/*.cs")
done
output="$root/TestResults/mutation"
rm -rf "$output"
start=$(date +%s)
(cd PimPortal.Tests && dotnet stryker --config-file "$root/scripts/stryker-config.json" --output "$output" "${args[@]}")
echo "Stryker ran for $(( ($(date +%s) - start) / 60 )) min"
dotnet run "$root/scripts/mutation-summary.cs" -- "$output/reports/mutation-report.json"
