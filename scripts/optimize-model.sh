#!/usr/bin/env bash
# Regenerates the compiled model of the SQLite context (the embedded default loads it instead of building the model
# on every start). The test CompiledModelTests fails when it is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
out=PimPortal.Core/Persistence/CompiledModels/Sqlite
tmp=PimPortal.Core/obj/compiled-model
rm -rf "$tmp"
# The design-time factory builds the model from code, not from the compiled model being replaced (which must still
# compile: the project is built first).
dotnet ef dbcontext optimize --project PimPortal.Core --startup-project PimPortal.Core \
    --context SqlitePimDbContext --output-dir obj/compiled-model --namespace PimPortal.Core.Persistence.CompiledModels.Sqlite
rm -rf "$out"
mv "$tmp" "$out"
# No assembly-level registration: the host opts in with UseModel, so `dotnet ef` and the tests still build the model
# from code (and a stale compiled model cannot leak into a new migration).
rm -f "$out/SqlitePimDbContextAssemblyAttributes.cs" PimPortal.Core/design-time.db
