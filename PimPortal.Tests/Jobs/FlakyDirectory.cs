using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Directory;
using PimPortal.Core.Directory.Local;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Jobs;

/// <summary>
/// The real local directory behind a switch that makes it answer like a directory having a bad day: every change
/// retried later, or refused, or the whole call throwing. (The directory is outside the portal: faking its moods is
/// fair; its state stays real.)
/// </summary>
public sealed class FlakyDirectory(LocalDirectoryGateway inner) : IDirectoryGateway
{
    /// <summary>Starts the portal on <paramref name="kind"/> with this directory in front of the local one.</summary>
    public static Task<TestApp> StartAsync(DatabaseKind kind) =>
        TestApp.StartAsync(kind, services =>
        {
            services.AddSingleton<LocalDirectoryGateway>();
            services.AddSingleton<IDirectoryGateway, FlakyDirectory>();
        });

    /// <summary>The directory of an app started by <see cref="StartAsync"/>.</summary>
    public static FlakyDirectory Of(TestApp app) => (FlakyDirectory)app.Services.GetRequiredService<IDirectoryGateway>();

    public DirectoryChangeOutcome? Answer { get; set; }

    public bool Throw { get; set; }

    public int Calls { get; private set; }

    /// <summary>Runs inside the call, before the directory acts: what happens elsewhere while a write is in flight.</summary>
    public Func<Task>? WhileWriting { get; set; }

    public async Task<IReadOnlyList<DirectoryChangeResult>> ApplyAsync(IReadOnlyList<DirectoryChange> changes, CancellationToken cancellationToken)
    {
        Calls++;
        if (WhileWriting is { } meanwhile)
        {
            WhileWriting = null;
            await meanwhile();
        }

        if (Throw)
        {
            throw new HttpRequestException("503 Service Unavailable");
        }

        return Answer is { } answer
            ? [.. changes.Select(c => new DirectoryChangeResult(c, answer, answer == DirectoryChangeOutcome.Refused ? "RoleNotFound" : "429 Too Many Requests"))]
            : await inner.ApplyAsync(changes, cancellationToken);
    }

    public Task<IReadOnlyList<DirectoryHolder>> ListHoldersAsync(CancellationToken cancellationToken) => inner.ListHoldersAsync(cancellationToken);

    public Task<IReadOnlyList<DirectoryPrincipal>> ReadPrincipalsAsync(IReadOnlyList<(Guid Id, Core.Domain.PrincipalKind Kind)> principals, CancellationToken cancellationToken) =>
        inner.ReadPrincipalsAsync(principals, cancellationToken);

    public Task<IReadOnlyList<DirectorySignIn>?> ReadSignInsAsync(Guid userId, DateTimeOffset after, CancellationToken cancellationToken) =>
        inner.ReadSignInsAsync(userId, after, cancellationToken);
}
