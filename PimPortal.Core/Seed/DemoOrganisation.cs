using PimPortal.Core.Domain;

namespace PimPortal.Core.Seed;

/// <summary>The demo organisation of the embedded default (contoso.test), as listed in the README.</summary>
public static class DemoOrganisation
{
    public const string Password = "Demo-pass-2026!";

    public static readonly DemoAccount Alice = new(new Guid("a11ce000-0000-4000-8000-000000000001"), "alice@contoso.test", "Alice Adams", "ALICEDEMOTOTPKEY", null);
    public static readonly DemoAccount Bob = new(new Guid("b0b00000-0000-4000-8000-000000000002"), "bob@contoso.test", "Bob Brown", "BOBDEMOTOTPKEY22", null);
    public static readonly DemoAccount Carol = new(new Guid("ca201000-0000-4000-8000-000000000003"), "carol@contoso.test", "Carol Clark", "CAROLDEMOTOTPKEY", PortalPermissions.GovernanceLead);
    public static readonly DemoAccount Dave = new(new Guid("da7e0000-0000-4000-8000-000000000004"), "dave@contoso.test", "Dave Davis", "DAVEDEMOTOTPKEY2", PortalPermissions.Auditor);
    public static readonly DemoAccount Erin = new(new Guid("e2170000-0000-4000-8000-000000000005"), "erin@contoso.test", "Erin Evans", "ERINDEMOTOTPKEY2", PortalPermissions.PimAdministrator);
    public static readonly DemoAccount BreakGlass = new(new Guid("b2ea0000-0000-4000-8000-000000000006"), "breakglass@contoso.test", "Break Glass", "BREAKGLASSTOTPKY", null);

    public static readonly IReadOnlyList<DemoAccount> Accounts = [Alice, Bob, Carol, Dave, Erin, BreakGlass];

    /// <summary>The group whose membership is the demo's PIM for Groups role.</summary>
    public static readonly Guid ProdDbOperatorsGroupId = new("9d0b0000-0000-4000-8000-0000000000a1");

    public static readonly DemoRole GlobalAdministrator = new(
        new Guid("10000000-0000-4000-8000-000000000001"), RoleKind.DirectoryRole, "Global Administrator",
        "62e90394-69f5-4237-9190-012177145e10", "/", TimeSpan.FromHours(4), Mfa: true, Justification: true, Ticket: true, ApprovalsNeeded: 1);

    public static readonly DemoRole PrivilegedRoleAdministrator = new(
        new Guid("10000000-0000-4000-8000-000000000002"), RoleKind.DirectoryRole, "Privileged Role Administrator",
        "e8611ab8-c189-46e8-94e1-60213ab1f814", "/", TimeSpan.FromHours(2), Mfa: true, Justification: true, Ticket: true, ApprovalsNeeded: 2);

    public static readonly DemoRole UserAdministrator = new(
        new Guid("10000000-0000-4000-8000-000000000003"), RoleKind.DirectoryRole, "User Administrator",
        "fe930be7-5e62-47db-91af-98c3a49a38b1", "/", TimeSpan.FromHours(8), Mfa: true, Justification: true, Ticket: false, ApprovalsNeeded: 0);

    public static readonly DemoRole ExchangeAdministrator = new(
        new Guid("10000000-0000-4000-8000-000000000004"), RoleKind.DirectoryRole, "Exchange Administrator",
        "29232cdf-9323-42fd-ade2-1d097af3e4de", "/", TimeSpan.FromHours(8), Mfa: false, Justification: true, Ticket: false, ApprovalsNeeded: 0);

    public static readonly DemoRole ProdDbOperators = new(
        new Guid("10000000-0000-4000-8000-000000000005"), RoleKind.GroupMembership, "Prod DB Operators",
        ProdDbOperatorsGroupId.ToString(), ProdDbOperatorsGroupId.ToString(), TimeSpan.FromHours(4), Mfa: true, Justification: true, Ticket: false, ApprovalsNeeded: 0);

    /// <summary>Contributor (its Azure built-in role definition id) on the production resource group.</summary>
    public static readonly DemoRole ContributorOnRgProd = new(
        new Guid("10000000-0000-4000-8000-000000000006"), RoleKind.AzureResourceRole, "Contributor",
        "b24988ac-6180-42a0-ab88-20f7382dd24c", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-prod",
        TimeSpan.FromHours(8), Mfa: true, Justification: true, Ticket: false, ApprovalsNeeded: 0);

    public static readonly IReadOnlyList<DemoRole> Roles =
        [GlobalAdministrator, PrivilegedRoleAdministrator, UserAdministrator, ExchangeAdministrator, ProdDbOperators, ContributorOnRgProd];
}

/// <summary>A demo account: its directory id, sign-in name, TOTP secret (base32) and portal permission, if any.</summary>
public sealed record DemoAccount(Guid Id, string Email, string DisplayName, string TotpSecret, string? Permission);

/// <summary>A demo role and its settings; <paramref name="ApprovalsNeeded"/> 0 means no approval.</summary>
public sealed record DemoRole(
    Guid Id, RoleKind Kind, string DisplayName, string ExternalId, string Scope, TimeSpan MaxDuration,
    bool Mfa, bool Justification, bool Ticket, int ApprovalsNeeded);
