using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Security;

/// <summary>
/// Authenticator (TOTP) keys at rest: encrypted with the Data Protection key ring, bound to their user (a value copied
/// onto another account's row does not decrypt), so the database alone — a backup, a read replica, a stolen file — no
/// longer yields anybody's code generator. Rows written in clear by an earlier version are encrypted on start.
/// </summary>
public sealed class AuthenticatorKeys(IDataProtectionProvider protection)
{
    /// <summary>Where ASP.NET Core Identity keeps a user's authenticator key.</summary>
    public const string LoginProvider = "[AspNetUserStore]";
    public const string Name = "AuthenticatorKey";

    /// <summary>The stored value's version: what follows is Data Protection's payload.</summary>
    private const string Marker = "dp1:";

    private const string Purpose = "PimPortal.AuthenticatorKey.v1";

    public static bool IsProtected(string? stored) => stored?.StartsWith(Marker, StringComparison.Ordinal) == true;

    /// <summary>The value to store for <paramref name="userId"/>'s base32 key.</summary>
    public string Protect(Guid userId, string base32Key) => Marker + Protector(userId).Protect(base32Key);

    /// <summary>The base32 key of a stored value (one left in clear by an earlier version is read as it is).</summary>
    public string Reveal(Guid userId, string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return IsProtected(stored) ? Protector(userId).Unprotect(stored[Marker.Length..]) : stored;
    }

    /// <summary>Encrypts every authenticator key still stored in clear; returns how many. Idempotent.</summary>
    public async Task<int> ProtectStoredAsync(PimDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var clear = await db.UserTokens
            .Where(t => t.LoginProvider == LoginProvider && t.Name == Name && t.Value != null && !t.Value.StartsWith(Marker))
            .ToListAsync(cancellationToken);
        foreach (var token in clear)
        {
            token.Value = Protect(token.UserId, token.Value!);
        }

        await db.SaveChangesAsync(cancellationToken);
        return clear.Count;
    }

    private IDataProtector Protector(Guid userId) => protection.CreateProtector(Purpose, userId.ToString("N"));
}
