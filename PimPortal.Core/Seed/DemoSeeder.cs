using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Security;

namespace PimPortal.Core.Seed;

/// <summary>Seeds the demo organisation into an empty database, in one SaveChanges (one transaction), with its audit event.</summary>
public sealed class DemoSeeder(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, AuthenticatorKeys keys)
{
    /// <summary>Seeds unless the directory already has principals; returns whether it seeded.</summary>
    public async Task<bool> SeedIfEmptyAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.Principals.AnyAsync(cancellationToken))
        {
            return false;
        }

        var now = time.GetUtcNow();
        var hasher = new PasswordHasher<PortalUser>();
        var roles = PortalPermissions.All.ToDictionary(p => p, p => new IdentityRole<Guid>(p)
        {
            Id = Guid.NewGuid(),
            NormalizedName = p.ToUpperInvariant(),
            ConcurrencyStamp = Guid.NewGuid().ToString(),
        });
        db.Roles.AddRange(roles.Values);

        var principals = DemoOrganisation.Accounts.ToDictionary(a => a.Id, a => new Principal(a.Id, PrincipalKind.User, a.DisplayName, a.Email));
        principals[DemoOrganisation.Alice.Id].SetManager(DemoOrganisation.Carol.Id);
        principals[DemoOrganisation.Bob.Id].SetManager(DemoOrganisation.Carol.Id);
        principals[DemoOrganisation.BreakGlass.Id].MarkBreakGlass(true);
        db.Principals.AddRange(principals.Values);
        db.Principals.Add(new Principal(DemoOrganisation.ProdDbOperatorsGroupId, PrincipalKind.Group, "Prod DB Operators", null));

        // Password hashing (PBKDF2, 100,000 rounds) is most of a first start's cost: hash the accounts in parallel.
        var hashes = new Dictionary<Guid, string>();
        Parallel.ForEach(DemoOrganisation.Accounts, account =>
        {
            var hash = hasher.HashPassword(new PortalUser { Id = account.Id }, DemoOrganisation.Password);
            lock (hashes)
            {
                hashes[account.Id] = hash;
            }
        });

        foreach (var account in DemoOrganisation.Accounts)
        {
            var user = new PortalUser
            {
                Id = account.Id,
                UserName = account.Email,
                NormalizedUserName = account.Email.ToUpperInvariant(),
                Email = account.Email,
                NormalizedEmail = account.Email.ToUpperInvariant(),
                EmailConfirmed = true,
                DisplayName = account.DisplayName,
                SecurityStamp = Guid.NewGuid().ToString("N").ToUpperInvariant(),
                ConcurrencyStamp = Guid.NewGuid().ToString(),
                LockoutEnabled = true,
            };
            user.PasswordHash = hashes[account.Id];
            db.Users.Add(user);
            db.UserTokens.Add(new IdentityUserToken<Guid> { UserId = account.Id, LoginProvider = AuthenticatorKeys.LoginProvider, Name = AuthenticatorKeys.Name, Value = keys.Protect(account.Id, account.TotpSecret) });
            if (account.Permission is { } permission)
            {
                db.UserRoles.Add(new IdentityUserRole<Guid> { UserId = account.Id, RoleId = roles[permission].Id });
            }
        }


        foreach (var demo in DemoOrganisation.Roles)
        {
            var settings = new RoleSettings(demo.MaxDuration, demo.Mfa, demo.Justification, demo.Ticket, requireApproval: demo.ApprovalsNeeded > 0, approvalsNeeded: Math.Max(1, demo.ApprovalsNeeded));
            if (demo.ApprovalsNeeded > 0)
            {
                settings.AddApprover(DemoOrganisation.Bob.Id);
                settings.AddApprover(DemoOrganisation.Erin.Id);
            }

            db.PrivilegedRoles.Add(new PrivilegedRole(demo.Id, demo.Kind, demo.DisplayName, demo.ExternalId, demo.Scope, settings));
            db.Eligibilities.Add(new RoleEligibility(Guid.NewGuid(), DemoOrganisation.Alice.Id, demo.Id, demo.Scope, now, null, Guid.Empty, now));
        }

        // Bob approves, and is himself eligible for an approval role — which erin, not he, must approve.
        var userAdmin = DemoOrganisation.UserAdministrator;
        db.Eligibilities.Add(new RoleEligibility(Guid.NewGuid(), DemoOrganisation.Bob.Id, userAdmin.Id, userAdmin.Scope, now, null, Guid.Empty, now));
        var globalAdmin = DemoOrganisation.GlobalAdministrator;
        db.Eligibilities.Add(new RoleEligibility(Guid.NewGuid(), DemoOrganisation.Bob.Id, globalAdmin.Id, globalAdmin.Scope, now, null, Guid.Empty, now));

        // The break-glass account holds Global Administrator permanently: a standing assignment, no activation.
        db.DirectoryAssignments.Add(new DirectoryAssignment(Guid.NewGuid(), DemoOrganisation.BreakGlass.Id, globalAdmin.Id, globalAdmin.Scope, null, now, null));

        db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.DemoSeeded, "organisation", "contoso.test", AuditOutcome.Success,
            new { accounts = DemoOrganisation.Accounts.Count, roles = DemoOrganisation.Roles.Count }));
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }
}
