namespace PimPortal.Core;

/// <summary>Section <c>Pim:DataProtection</c>: how the shared key ring is encrypted at rest.</summary>
public sealed class KeyRingOptions
{
    /// <summary>
    /// The certificate that encrypts each key: a PKCS#12 file (.pfx, with <see cref="CertificatePassword"/>) or a PEM
    /// certificate with its key beside it (.key). In Azure, a Key Vault certificate mounted as a file.
    /// </summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Certificates that encrypted older keys, still accepted to read them after a rotation.</summary>
    public IList<string> PreviousCertificatePaths { get; } = [];

    /// <summary>
    /// Keep the keys unencrypted in a shared (PostgreSQL or SQL Server) database. Off: such a database needs a
    /// certificate — anyone who can read the table could otherwise forge a sign-in cookie. (SQLite, one instance on
    /// its own disk, may do without.)
    /// </summary>
    public bool AllowUnencryptedKeys { get; set; }
}
