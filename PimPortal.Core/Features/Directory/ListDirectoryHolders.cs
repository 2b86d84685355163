using Mediator;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Directory;

namespace PimPortal.Core.Features.Directory;

/// <summary>Who holds each managed role right now, as the directory says (PIM administrators).</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record ListDirectoryHolders : IQuery<IReadOnlyList<DirectoryHolder>>;

public sealed class ListDirectoryHoldersHandler(IDirectoryGateway gateway) : IQueryHandler<ListDirectoryHolders, IReadOnlyList<DirectoryHolder>>
{
    public async ValueTask<IReadOnlyList<DirectoryHolder>> Handle(ListDirectoryHolders query, CancellationToken cancellationToken) =>
        await gateway.ListHoldersAsync(cancellationToken);
}
