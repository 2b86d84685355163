using FluentValidation;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PimPortal.Core.Audit;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Directory;
using PimPortal.Core.Directory.Local;
using PimPortal.Core.Jobs;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Lifecycle.Alerts;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Notifications;
using PimPortal.Core.Persistence;
using PimPortal.Core.Security;
using PimPortal.Core.Seed;
using PimPortal.Core.Signals;

namespace PimPortal.Core;

public static class DependencyInjection
{
    /// <summary>
    /// Registers everything that decides: the database of the configured provider, Mediator with its pipeline
    /// (logging → authorization → validation → handler), validators, the directory gateway, step-up and the job
    /// processors. The host adds <see cref="ICurrentUser"/> and, where wanted, <see cref="AddPimPortalJobs"/>.
    /// </summary>
    public static IServiceCollection AddPimPortalCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(PimOptions.Section);
        services.AddOptions<PimOptions>().Bind(section);
        var options = section.Get<PimOptions>() ?? new PimOptions();
        services.AddPimDatabase(options.Database.Provider, configuration.GetConnectionString("Pim"));

        services.TryAddSingleton(TimeProvider.System);
        services.AddMediator(mediator =>
        {
            mediator.ServiceLifetime = ServiceLifetime.Scoped;
            mediator.PipelineBehaviors =
            [
                typeof(LoggingBehaviour<,>),
                typeof(AuthorizationBehaviour<,>),
                typeof(ValidationBehaviour<,>),
            ];
        });
        services.AddValidatorsFromAssembly(typeof(DependencyInjection).Assembly, ServiceLifetime.Singleton, includeInternalTypes: true);
        services.AddScoped<RequestContext>();

        if (options.Mode == PimMode.Entra)
        {
            services.AddGraphDirectory(configuration);
            services.TryAddSingleton<IMfaStepUp, EntraStepUp>();
            services.AddSingleton<StepUpRecorder>();
            services.AddSingleton<EntraSignIn>();
        }

        services.TryAddSingleton<IDirectoryGateway, LocalDirectoryGateway>();
        services.TryAddSingleton<IMfaStepUp, TotpStepUp>();
        services.AddDataProtection();
        services.AddSingleton<AuthenticatorKeys>();
        services.AddSingleton<AttemptLimiter>();
        services.AddSingleton<JobSignals>();
        services.AddSingleton<WorkerHeartbeats>();
        services.AddSingleton<PortalEvents>();
        services.AddSingleton<Announcer>();
        services.AddSingleton<SignInAudit>();
        services.TryAddSingleton<IMailSender, SmtpMailSender>();
        services.AddSingleton<MailProcessor>();
        services.AddSingleton<AuditTrail>();

        // The lifecycle: the operations every handler and worker goes through.
        services.AddSingleton<Notifier>();
        services.AddSingleton<RequestLapses>();
        services.AddSingleton<CredentialResets>();
        services.AddSingleton<Grants>();
        services.AddSingleton<ApprovedRequests>();
        services.AddSingleton<EligibilityRemoval>();
        services.AddSingleton<OutboxProcessor>();
        services.AddSingleton<AlertEvaluator>();
        services.AddSingleton<BreakGlassAlarm>();
        services.AddSingleton<ReviewerNotices>();
        services.AddSingleton<ReviewOpening>();
        services.AddSingleton<ReviewReminders>();
        services.AddSingleton<ReviewCompletion>();
        services.AddSingleton<ReviewResults>();

        // The workers' passes (what is due, what to claim), run by the hosted workers of AddPimPortalJobs.
        services.AddSingleton<ExpiryProcessor>();
        services.AddSingleton<ChangeFeedProcessor>();
        services.AddSingleton<DriftScanner>();
        services.AddSingleton<AccessReviewProcessor>();
        services.AddSingleton<BreakGlassSignInWatcher>();
        services.AddSingleton<EligibilityNotices>();
        services.AddSingleton<DirectorySyncer>();
        services.AddScoped<DatabaseInitializer>();
        services.AddScoped<DemoSeeder>();
        return services;
    }

    /// <summary>
    /// Writes grants to Microsoft Graph (section <c>Pim:Graph</c>): the Graph gateway as the directory, with a Graph
    /// client made for it (app-only, the SDK's retry handler left out).
    /// </summary>
    public static IServiceCollection AddGraphDirectory(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<Directory.Graph.GraphDirectoryOptions>().Bind(configuration.GetSection(Directory.Graph.GraphDirectoryOptions.Section));
        services.TryAddSingleton(sp => Directory.Graph.GraphClients.Create(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Directory.Graph.GraphDirectoryOptions>>().Value));
        services.TryAddSingleton(sp => new Directory.Graph.ArmRoleWriter(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Directory.Graph.GraphDirectoryOptions>>().Value));
        services.TryAddSingleton<IDirectoryGateway, Directory.Graph.GraphDirectoryGateway>();
        return services;
    }

    /// <summary>Runs the outbox, expiry, mail and drift workers in this instance.</summary>
    public static IServiceCollection AddPimPortalJobs(this IServiceCollection services, PimMode mode = PimMode.Embedded)
    {
        if (mode == PimMode.Entra)
        {
            // The embedded directory is the portal's own tables: only a real directory has anything to sync.
            services.AddHostedService<DirectorySyncWorker>();
        }

        services.AddHostedService<OutboxWorker>();
        services.AddHostedService<ExpiryWorker>();
        services.AddHostedService<MailWorker>();
        services.AddHostedService<DriftWorker>();
        services.AddHostedService<GovernanceWorker>();
        services.AddHostedService<AuditSealWorker>();
        services.AddHostedService<AccessReviewWorker>();
        return services;
    }

    /// <summary>
    /// Runs the change feed in this instance: other instances' changes reach its open pages. Independent of the
    /// workers — a web-only instance needs it most.
    /// </summary>
    public static IServiceCollection AddPimPortalChangeFeed(this IServiceCollection services)
    {
        services.AddHostedService<ChangeFeedWorker>();
        return services;
    }

    /// <summary>
    /// One pooled context factory for the configured provider (EF's thread-safety checks off: every context here is
    /// rented for one operation and never shared, and the checks cost measurably on every query and save), exposed as
    /// <see cref="IDbContextFactory{PimDbContext}"/> (handlers, one context per operation) and as a scoped
    /// <see cref="PimDbContext"/> (Identity's stores).
    /// </summary>
    public static IServiceCollection AddPimDatabase(this IServiceCollection services, DatabaseProvider provider, string? connectionString)
    {
        switch (provider)
        {
            case DatabaseProvider.Sqlite:
                connectionString ??= "Data Source=pimportal.db";
                // SQLite changes a column by rebuilding its table, which needs foreign keys off outside the migration's
                // transaction: EF does it, and says so each time; the migrations tests cover every rebuild.
                services.AddPooledDbContextFactory<SqlitePimDbContext>(o => o.UseSqlite(connectionString, Sqlite).UseModel(Persistence.CompiledModels.Sqlite.SqlitePimDbContextModel.Instance).Tuned()
                    .ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.NonTransactionalMigrationOperationWarning)));
                services.AddSingleton<IDbContextFactory<PimDbContext>, FactoryOf<SqlitePimDbContext>>();
                break;
            case DatabaseProvider.PostgreSql:
                RequireConnectionString(connectionString, provider);
                services.AddPooledDbContextFactory<PostgresPimDbContext>(o => o.UseNpgsql(connectionString).Tuned());
                services.AddSingleton<IDbContextFactory<PimDbContext>, FactoryOf<PostgresPimDbContext>>();
                break;
            case DatabaseProvider.SqlServer:
                RequireConnectionString(connectionString, provider);
                services.AddPooledDbContextFactory<SqlServerPimDbContext>(o => o.UseSqlServer(connectionString).Tuned());
                services.AddSingleton<IDbContextFactory<PimDbContext>, FactoryOf<SqlServerPimDbContext>>();
                break;
            default:
                throw new InvalidOperationException($"Pim:Database:Provider '{provider}' is not one of Sqlite, PostgreSql, SqlServer.");
        }

        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContext());
        return services;
    }

    /// <summary>
    /// Options shared by every provider. The pending-model-changes check on migrate diffs the whole model on every
    /// start; the test suite asserts each provider's migrations match the model instead.
    /// </summary>
    private static DbContextOptionsBuilder Tuned(this DbContextOptionsBuilder options) =>
        options.EnableThreadSafetyChecks(false)
            .ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.PendingModelChangesWarning));

    private static void Sqlite(Microsoft.EntityFrameworkCore.Infrastructure.SqliteDbContextOptionsBuilder sqlite) =>
        sqlite.CommandTimeout(30);

    private static void RequireConnectionString(string? connectionString, DatabaseProvider provider)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException($"Pim:Database:Provider is {provider}, so ConnectionStrings:Pim must be set.");
        }
    }

    private sealed class FactoryOf<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PimDbContext>
        where TContext : PimDbContext
    {
        public PimDbContext CreateDbContext() => inner.CreateDbContext();

        public async Task<PimDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
            await inner.CreateDbContextAsync(cancellationToken);
    }
}
