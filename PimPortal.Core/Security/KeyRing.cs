using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Security;

/// <summary>
/// The Data Protection key ring (sign-in cookies, antiforgery tokens, Blazor circuits): kept in the portal's database,
/// so every instance reads the same keys and a redeployed container keeps everybody signed in; under one fixed
/// application name, so every instance may read what another protected; each key encrypted at rest with the
/// certificate <c>Pim:DataProtection:CertificatePath</c> names (the previous ones still read older keys).
/// On SQLite without a certificate (the embedded default) the keys are kept in a directory beside the database file
/// instead (<see cref="DirectoryBeside"/>): the file alone — a copy, a backup — then decrypts nothing it holds
/// (authenticator keys, <see cref="AuthenticatorKeys"/>).
/// </summary>
public static class KeyRing
{
    /// <summary>The application name every instance shares: Data Protection isolates key use by it.</summary>
    public const string ApplicationName = "PimPortal";

    /// <summary>The key directory of an SQLite database file without a certificate: <c>pimportal.db</c> → <c>pimportal.db.keys/</c>.</summary>
    public static string DirectoryBeside(string sqliteFile) => sqliteFile + ".keys";

    /// <param name="sqliteFile">The database file when the database is SQLite (not in memory), else null.</param>
    public static IServiceCollection AddPimKeyRing(this IServiceCollection services, KeyRingOptions options, string? sqliteFile = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = services.AddDataProtection().SetApplicationName(ApplicationName);
        if (sqliteFile is not null && options.CertificatePath is not { Length: > 0 })
        {
            builder.PersistKeysToFileSystem(System.IO.Directory.CreateDirectory(DirectoryBeside(sqliteFile)));
        }
        else
        {
            builder.PersistKeysToDbContext<PimDbContext>();
        }

        if (options.CertificatePath is { Length: > 0 } path)
        {
            builder.ProtectKeysWithCertificate(Load(path, options.CertificatePassword, "Pim:DataProtection:CertificatePath"));
            var previous = options.PreviousCertificatePaths.Select((p, i) => Load(p, options.CertificatePassword, $"Pim:DataProtection:PreviousCertificatePaths:{i}"));
            builder.UnprotectKeysWithAnyCertificate([.. previous]);
        }

        return services;
    }

    /// <summary>
    /// Reads the key ring now — creating the first key when there is none — so a ring that cannot be read (a missing
    /// table, a key encrypted with a certificate this instance lacks) is found at start, not at a user's first page.
    /// Returns what is wrong, or null.
    /// </summary>
    public static string? Check(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var keys = services.GetRequiredService<IKeyManager>().GetAllKeys();
        var unreadable = keys.Count(k => !Readable(k));
        if (unreadable > 0)
        {
            return $"{unreadable} of {keys.Count} Data Protection keys cannot be decrypted with the configured certificate (Pim:DataProtection:CertificatePath, PreviousCertificatePaths): " +
                "sessions protected with them are lost; configure the certificate they were encrypted with.";
        }

        // A round trip makes the ring (and its first key) exist, as every instance must see it.
        var protector = services.GetRequiredService<IDataProtectionProvider>().CreateProtector("PimPortal.KeyRing.Check");
        return protector.Unprotect(protector.Protect("ready")) == "ready" ? null : "The Data Protection key ring does not round-trip.";
    }

    private static bool Readable(IKey key)
    {
        try
        {
            _ = key.Descriptor;
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>A PKCS#12 file (.pfx/.p12, with its password) or a PEM certificate with its key beside it (<c>cert.pem</c> + <c>cert.key</c>).</summary>
    internal static X509Certificate2 Load(string path, string? password, string key)
    {
        if (!File.Exists(path))
        {
            throw new StartupException($"{key} is '{path}': no such file. Name a PKCS#12 file (.pfx) or a PEM certificate whose key is beside it (.key).");
        }

        try
        {
            var certificate = Path.GetExtension(path).ToLowerInvariant() is ".pem" or ".crt"
                ? X509Certificate2.CreateFromPemFile(path, Path.ChangeExtension(path, ".key"))
                : X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
            return certificate.HasPrivateKey
                ? certificate
                : throw new StartupException($"{key} is '{path}': the certificate has no private key, so it cannot decrypt the key ring.");
        }
        catch (CryptographicException e)
        {
            throw new StartupException($"{key} is '{path}': the certificate cannot be read ({e.Message.TrimEnd('.')}); check the file and Pim:DataProtection:CertificatePassword.", e);
        }
    }
}
