#!/usr/bin/env bash
# Adds a migration to each provider's set (the model is one; the migrations are per provider) and regenerates the
# SQLite compiled model. Usage: scripts/add-migration.sh <Name>
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/add-migration.sh <MigrationName>}
dotnet tool restore >/dev/null
for pair in Sqlite:SqlitePimDbContext PostgreSql:PostgresPimDbContext SqlServer:SqlServerPimDbContext; do
    dir=${pair%%:*}; context=${pair##*:}
    dotnet ef migrations add "$name" --project PimPortal.Core --startup-project PimPortal.Core --context "$context" \
        --output-dir "Persistence/Migrations/$dir" --namespace "PimPortal.Core.Persistence.Migrations.$dir"
done
# dotnet ef writes each model snapshot under a folder named after its namespace; keep it beside its migrations.
for dir in Sqlite PostgreSql SqlServer; do
    if [ -d "PimPortal.Core/PimPortal/Core/Persistence/Migrations/$dir" ]; then
        mv PimPortal.Core/PimPortal/Core/Persistence/Migrations/$dir/*.cs "PimPortal.Core/Persistence/Migrations/$dir/"
    fi
done
rm -rf PimPortal.Core/PimPortal PimPortal.Core/design-time.db
scripts/optimize-model.sh
