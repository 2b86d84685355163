using System.Security.Cryptography;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Security;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Accounts;

/// <summary>
/// The embedded default: a PIM administrator resets a local account's password, its authenticator, or both — the
/// helpdesk's task when a user is locked out or lost their phone. The new password (and authenticator key) is shown to
/// the administrator once, to hand over by another channel; the account's sessions end. Because whoever holds the new
/// credentials can act as the user, the reset takes effect through <see cref="CredentialResets"/>: a fresh step-up for
/// the next activation, waiting requests lapse, audited, and a high alert to the other PIM administrators. Nobody resets
/// their own account here. In Entra mode credentials are reset in Entra, and the directory sync acts on it.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record ResetCredentials(Guid PrincipalId, bool Password, bool Authenticator, string? Justification) : ICommand<IssuedCredentials>;

/// <summary>What the reset issued, shown once: nothing of it is kept in clear or in the audit trail.</summary>
/// <param name="AuthenticatorUri">The key as an <c>otpauth://</c> URI, for an authenticator app to scan.</param>
public sealed record IssuedCredentials(string? TemporaryPassword, string? AuthenticatorKey, string? AuthenticatorUri);

public sealed class ResetCredentialsValidator : AbstractValidator<ResetCredentials>
{
    public ResetCredentialsValidator()
    {
        RuleFor(x => x.PrincipalId).NotEmpty().WithMessage("Choose the account.");
        RuleFor(x => x).Must(x => x.Password || x.Authenticator).WithName("What").WithMessage("Choose what to reset: the password, the authenticator, or both.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class ResetCredentialsHandler(
    IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, IOptions<PimOptions> options,
    AuthenticatorKeys keys, CredentialResets resets, Announcer announcer)
    : ICommandHandler<ResetCredentials, IssuedCredentials>
{
    /// <summary>Letters and digits that cannot be mistaken for each other when read out or copied by hand.</summary>
    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    private static readonly PasswordHasher<PortalUser> Hasher = new();

    public async ValueTask<IssuedCredentials> Handle(ResetCredentials command, CancellationToken cancellationToken)
    {
        if (options.Value.Mode == PimMode.Entra)
        {
            throw new DomainRuleException("Passwords and authenticators are reset in Entra in this mode; the portal notices the reset at the next directory sync and acts on it.");
        }

        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var principal = await db.Principals.SingleOrDefaultAsync(p => p.Id == command.PrincipalId, cancellationToken)
            ?? throw new NotFoundException("That account is not in the directory.");
        if (SeparationOfDuties.IsOwn(context.Actor.PrincipalId, [], principal.Id))
        {
            throw new ForbiddenException("You cannot reset your own credentials here; ask another PIM administrator.");
        }

        var account = principal.Kind == PrincipalKind.User ? await db.Users.SingleOrDefaultAsync(u => u.Id == principal.Id, cancellationToken) : null;
        if (account is null)
        {
            throw new DomainRuleException($"{principal.Label} has no local sign-in to reset.");
        }

        string? password = null, key = null;
        if (command.Password)
        {
            password = NewPassword();
            account.PasswordHash = Hasher.HashPassword(account, password);
            account.AccessFailedCount = 0;
            account.LockoutEnd = null;
        }

        if (command.Authenticator)
        {
            key = Base32.Encode(RandomNumberGenerator.GetBytes(20));
            var token = await db.UserTokens.SingleOrDefaultAsync(t => t.UserId == account.Id && t.LoginProvider == AuthenticatorKeys.LoginProvider && t.Name == AuthenticatorKeys.Name, cancellationToken);
            if (token is null)
            {
                db.UserTokens.Add(new IdentityUserToken<Guid> { UserId = account.Id, LoginProvider = AuthenticatorKeys.LoginProvider, Name = AuthenticatorKeys.Name, Value = keys.Protect(account.Id, key) });
            }
            else
            {
                token.Value = keys.Protect(account.Id, key);
            }
        }

        // Every session of the account ends: its cookie's security stamp no longer matches (open circuits within a minute).
        account.SecurityStamp = Base32.Encode(RandomNumberGenerator.GetBytes(20));
        account.ConcurrencyStamp = Guid.NewGuid().ToString();

        var what = (command.Password, command.Authenticator) switch
        {
            (true, true) => "password and authenticator",
            (true, false) => "password",
            _ => "authenticator",
        };
        principal.CredentialsReset(now);
        var work = context.Begin(db, now);
        await resets.ResetAsync(work, principal, what, $"portal: {command.Justification!.Trim()}", cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException($"{principal.DisplayName}'s account changed at the same moment (a sign-in or another reset); look again before resetting.");
        }

        announcer.Announce(work.Announce);
        var uri = key is null ? null
            : $"otpauth://totp/{Uri.EscapeDataString($"PimPortal:{account.Email ?? account.UserName}")}?secret={key}&issuer=PimPortal&digits=6&period=30";
        return new IssuedCredentials(password, key, uri);
    }

    /// <summary>Four groups of five from <see cref="PasswordAlphabet"/> (about 116 bits), with a capital, a small letter and a digit.</summary>
    private static string NewPassword()
    {
        while (true)
        {
            var groups = Enumerable.Range(0, 4).Select(_ => RandomNumberGenerator.GetString(PasswordAlphabet, 5));
            var password = string.Join('-', groups);
            if (password.Any(char.IsUpper) && password.Any(char.IsLower) && password.Any(char.IsDigit))
            {
                return password;
            }
        }
    }
}
