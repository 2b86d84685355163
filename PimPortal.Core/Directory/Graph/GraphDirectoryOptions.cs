using FluentValidation;

namespace PimPortal.Core.Directory.Graph;

/// <summary>Section <c>Pim:Graph</c>: how the portal writes grants to Microsoft Graph (Entra mode).</summary>
public sealed class GraphDirectoryOptions
{
    public const string Section = "Pim:Graph";

    /// <summary>The tenant the portal's app registration lives in.</summary>
    public string? TenantId { get; set; }

    /// <summary>The app registration's client id.</summary>
    public string? ClientId { get; set; }

    /// <summary>Its client secret (prefer a certificate or a managed identity where the platform offers one).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Graph's address, with its version (a national cloud, or a stub in tests).</summary>
    public Uri BaseUrl { get; set; } = new("https://graph.microsoft.com/v1.0");

    /// <summary>Azure Resource Manager's address, for Azure resource roles (a sovereign cloud's, or a stub in tests).</summary>
    public Uri ArmUrl { get; set; } = new("https://management.azure.com");

    /// <summary>How directory roles are granted: <c>Direct</c> (Entra ID P1) or <c>PimSchedule</c> (P2).</summary>
    public DirectoryRoleMode DirectoryRoles { get; set; } = DirectoryRoleMode.Direct;

    /// <summary>How group memberships are granted: plain <c>Membership</c>, or <c>PimForGroups</c> (P2).</summary>
    public GroupGrantMode Groups { get; set; } = GroupGrantMode.Membership;

    /// <summary>How long one Graph call may take before it counts as ambiguous (and is reconciled by reading back).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many changes of one batch go to Graph at once.</summary>
    public int Parallelism { get; set; } = 4;
}

/// <summary>How a directory role is granted in Entra.</summary>
public enum DirectoryRoleMode
{
    /// <summary>
    /// A role assignment (<c>roleManagement/directory/roleAssignments</c>) created and deleted by the portal, which
    /// enforces the end. Works on Entra ID P1.
    /// </summary>
    Direct,

    /// <summary>
    /// A PIM assignment schedule request (<c>adminAssign</c> with an expiration, <c>adminRemove</c>): Entra enforces
    /// the end as well. Needs Entra ID P2.
    /// </summary>
    PimSchedule,
}

/// <summary>How a group membership (PIM for Groups role) is granted.</summary>
public enum GroupGrantMode
{
    /// <summary>Plain membership (<c>groups/{id}/members/$ref</c>), added and removed by the portal.</summary>
    Membership,

    /// <summary>A PIM for Groups assignment schedule request with an expiration.</summary>
    PimForGroups,
}

/// <summary>The Graph keys Entra mode needs (section <c>Pim:Graph</c>).</summary>
public sealed class GraphDirectoryOptionsValidator : AbstractValidator<GraphDirectoryOptions>
{
    public GraphDirectoryOptionsValidator()
    {
        // App-only credentials, all three; none only for a stand-in at another address (a local stub) — Microsoft's
        // Graph refuses a call without a token.
        var credentials = (string?[] values) => values.Count(v => !string.IsNullOrWhiteSpace(v));
        RuleFor(o => o.TenantId).NotEmpty().When(o => credentials([o.TenantId, o.ClientId, o.ClientSecret]) > 0 || IsMicrosofts(o.BaseUrl))
            .WithMessage(Missing("the directory (tenant) id of the app registration that writes to Graph"));
        RuleFor(o => o.ClientId).NotEmpty().When(o => credentials([o.TenantId, o.ClientId, o.ClientSecret]) > 0 || IsMicrosofts(o.BaseUrl))
            .WithMessage(Missing("that app registration's client id"));
        RuleFor(o => o.ClientSecret).NotEmpty().When(o => credentials([o.TenantId, o.ClientId, o.ClientSecret]) > 0 || IsMicrosofts(o.BaseUrl))
            .WithMessage(Missing("that app registration's client secret (docs/entra-setup.md)"));
        RuleFor(o => o.BaseUrl).Must(u => u.IsAbsoluteUri).WithMessage("Pim:Graph:BaseUrl is '{PropertyValue}': allowed is an absolute address, e.g. https://graph.microsoft.com/v1.0.");
        RuleFor(o => o.ArmUrl).Must(u => u.IsAbsoluteUri).WithMessage("Pim:Graph:ArmUrl is '{PropertyValue}': allowed is an absolute address, e.g. https://management.azure.com.");
        RuleFor(o => o.Timeout).Must(t => t > TimeSpan.Zero).WithMessage("Pim:Graph:Timeout is '{PropertyValue}': allowed is a positive time span, e.g. 00:00:30.");
        RuleFor(o => o.Parallelism).InclusiveBetween(1, 32).WithMessage("Pim:Graph:Parallelism is '{PropertyValue}': allowed is a whole number from 1 to 32.");
    }

    private static bool IsMicrosofts(Uri url) => url.IsAbsoluteUri && (url.Host.EndsWith("graph.microsoft.com", StringComparison.OrdinalIgnoreCase)
        || url.Host.EndsWith("microsoftgraph.chinacloudapi.cn", StringComparison.OrdinalIgnoreCase) || url.Host.EndsWith("graph.microsoft.us", StringComparison.OrdinalIgnoreCase));

    private static string Missing(string what) => "Pim:Graph:{PropertyPath} is '': allowed is " + what + " (Pim:Mode is Entra).";
}
