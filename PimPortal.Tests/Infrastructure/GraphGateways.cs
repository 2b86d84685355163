using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PimPortal.Core.Directory;
using PimPortal.Core.Directory.Graph;
using PimPortal.Core.Persistence;

namespace PimPortal.Tests.Infrastructure;

/// <summary>The Graph gateway pointed at a stub, through the real Microsoft.Graph SDK — as Entra mode wires it.</summary>
public static class GraphGateways
{
    public static GraphDirectoryGateway Gateway(this GraphStub.GraphStub stub, IServiceProvider services,
        DirectoryRoleMode roles = DirectoryRoleMode.Direct, GroupGrantMode groups = GroupGrantMode.Membership, TimeSpan? timeout = null)
    {
        var options = new GraphDirectoryOptions { BaseUrl = stub.BaseUrl, ArmUrl = stub.ArmUrl, DirectoryRoles = roles, Groups = groups };
        if (timeout is { } limit)
        {
            options.Timeout = limit;
        }

        return new GraphDirectoryGateway(GraphClients.Create(options), new ArmRoleWriter(options), Options.Create(options),
            services.GetRequiredService<IDbContextFactory<PimDbContext>>(), NullLogger<GraphDirectoryGateway>.Instance);
    }

    /// <summary>Makes the stub the portal's directory.</summary>
    public static IServiceCollection UseGraphStub(this IServiceCollection services, GraphStub.GraphStub stub) =>
        services.AddSingleton<IDirectoryGateway>(sp => stub.Gateway(sp));
}
