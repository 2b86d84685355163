namespace PimPortal.Core;

/// <summary>
/// Why the portal will not start — a bad setting, a database that is not migrated, a key ring certificate it cannot
/// read — in lines an operator can act on; the entry point prints them and exits, with nothing written.
/// </summary>
public sealed class StartupException : Exception
{
    public StartupException(IReadOnlyList<string> problems)
        : base(string.Join(Environment.NewLine, problems ?? [])) => Problems = problems ?? [];

    public StartupException()
        : this("The portal cannot start.")
    {
    }

    public StartupException(string message)
        : base(message) => Problems = [message];

    public StartupException(string message, Exception innerException)
        : base(message, innerException) => Problems = [message];

    public IReadOnlyList<string> Problems { get; }
}
