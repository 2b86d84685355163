using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using PimPortal.Core.Persistence;
using PimPortal.Core.Persistence.CompiledModels.Sqlite;

namespace PimPortal.Tests.Persistence;

public sealed class CompiledModelTests
{
    [Fact]
    public void TheSqliteCompiledModel_MatchesTheModelBuiltFromCode()
    {
        using var built = new SqlitePimDbContext(new DbContextOptionsBuilder<SqlitePimDbContext>().UseSqlite("Data Source=:memory:").Options);

        var fromCode = Describe(built.Model);
        var compiled = Describe(SqlitePimDbContextModel.Instance);

        Assert.True(fromCode == compiled, "The compiled model is out of date: run scripts/optimize-model.sh.\n" + Diff(fromCode, compiled));
    }

    /// <summary>Everything about the model that decides what SQL runs: tables, columns, types, conversions, keys, indexes.</summary>
    private static string Describe(IModel model)
    {
        var text = new StringBuilder();
        foreach (var entity in model.GetEntityTypes().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            text.AppendLine($"{entity.Name} -> {entity.GetTableName()}");
            foreach (var property in entity.GetProperties().OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                var converter = property.GetValueConverter()?.GetType().Name ?? property.GetTypeMapping().Converter?.GetType().Name;
                text.AppendLine($"  {property.Name}: {property.ClrType.Name} null={property.IsNullable} column={property.GetColumnName()} " +
                    $"max={property.GetMaxLength()} conv={converter} token={property.IsConcurrencyToken} gen={property.ValueGenerated}");
            }

            foreach (var key in entity.GetKeys())
            {
                text.AppendLine($"  key {string.Join(",", key.Properties.Select(p => p.Name))} primary={key.IsPrimaryKey()}");
            }

            foreach (var foreignKey in entity.GetForeignKeys().OrderBy(f => f.PrincipalEntityType.Name + string.Join(",", f.Properties.Select(p => p.Name)), StringComparer.Ordinal))
            {
                text.AppendLine($"  fk {string.Join(",", foreignKey.Properties.Select(p => p.Name))} -> {foreignKey.PrincipalEntityType.Name} delete={foreignKey.DeleteBehavior}");
            }

            foreach (var index in entity.GetIndexes().OrderBy(i => i.GetDatabaseName(), StringComparer.Ordinal))
            {
                text.AppendLine($"  index {index.GetDatabaseName()} ({string.Join(",", index.Properties.Select(p => p.Name))}) unique={index.IsUnique} filter={index.GetFilter()}");
            }
        }

        return text.ToString();
    }

    private static string Diff(string expected, string actual) =>
        string.Join("\n", expected.Split('\n').Except(actual.Split('\n')).Select(l => "- " + l)
            .Concat(actual.Split('\n').Except(expected.Split('\n')).Select(l => "+ " + l)));
}
