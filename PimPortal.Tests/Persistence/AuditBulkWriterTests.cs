using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Persistence;

public sealed class AuditBulkWriterOnSqlite() : AuditBulkWriterTests(DatabaseKind.Sqlite);

public sealed class AuditBulkWriterOnPostgreSql() : AuditBulkWriterTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class AuditBulkWriterOnSqlServer() : AuditBulkWriterTests(DatabaseKind.SqlServer);
#endif

/// <summary>Events written in bulk read back exactly as EF writes them, text-searchable, and only inside a transaction.</summary>
public abstract class AuditBulkWriterTests(DatabaseKind kind) : HandlerTests(kind)
{
    [Fact]
    public async Task EventsWrittenInBulk_ReadBackAsWritten_AndCommitWithTheTransaction()
    {
        var now = App.Time.GetUtcNow();
        var actor = new Actor(DemoOrganisation.Erin.Id, "Erin Evans", new HashSet<string>());
        var client = new ClientInfo("198.51.100.7", "Bulk/1.0");
        // More rows than one command carries (a command takes at most 2,000 parameters).
        var events = Enumerable.Range(0, 450).Select(i => AuditFactory.Create(actor, client, now.AddMilliseconds(i), AuditActions.EligibilityRemoved, "eligibility", $"target-{i}",
            i % 2 == 0 ? AuditOutcome.Success : AuditOutcome.Failed, new { justification = $"Access review denial ref{i:D4}z", i }, Guid.NewGuid(), DemoOrganisation.ExchangeAdministrator.Id)).ToList();

        await App.Db(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await AuditBulkWriter.InsertAsync(db, events, CancellationToken.None);
            await transaction.CommitAsync();
        });

        var read = await App.Db(db => db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditActions.EligibilityRemoved).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal(
            events.Select(e => (e.OccurredAt, e.ActorId, e.ActorName, e.TargetType, e.TargetId, e.SubjectId, e.RoleId, e.Outcome, e.Details, e.ClientAddress, e.UserAgent, e.CorrelationId)),
            read.Select(e => (e.OccurredAt, e.ActorId, e.ActorName, e.TargetType, e.TargetId, e.SubjectId, e.RoleId, e.Outcome, e.Details, e.ClientAddress, e.UserAgent, e.CorrelationId)));
        Assert.All(read, e => Assert.Null(e.ChainHash));
        var found = await App.QueryAs(DemoOrganisation.Dave, new Core.Features.Audit.SearchAudit(new Core.Features.Audit.AuditFilter(Text: "ref0007z")));
        Assert.Equal("target-7", Assert.Single(found.Rows).TargetId);
    }

    [Fact]
    public async Task OutsideATransaction_NothingIsWritten() =>
        await Assert.ThrowsAsync<InvalidOperationException>(() => App.Db(db => AuditBulkWriter.InsertAsync(db,
            [AuditFactory.Create(Actor.System, ClientInfo.Unknown, App.Time.GetUtcNow(), AuditActions.EligibilityRemoved, "eligibility", "x", AuditOutcome.Success)], CancellationToken.None)));
}
