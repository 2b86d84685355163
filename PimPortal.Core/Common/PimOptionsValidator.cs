using FluentValidation;
using MimeKit;

namespace PimPortal.Core;

/// <summary>
/// What each <c>Pim:*</c> setting may be. The portal checks them before it touches the database and stops on the first
/// start with a bad one, one line each: the key, the value, what is allowed (<see cref="ConfigurationCheck"/>).
/// </summary>
public sealed class PimOptionsValidator : AbstractValidator<PimOptions>
{
    public PimOptionsValidator()
    {
        RuleFor(o => o.PublicUrl).Must(u => u.IsAbsoluteUri && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp))
            .WithMessage(Allowed("an absolute http or https address, e.g. https://pim.contoso.com"));

        RuleFor(o => o.Jobs.OutboxPollInterval).Must(Positive).WithMessage(PositiveSpan);
        RuleFor(o => o.Jobs.ExpiryMaxIdle).Must(Positive).WithMessage(PositiveSpan);
        RuleFor(o => o.Jobs.OutboxMaxAttempts).InclusiveBetween(1, 100).WithMessage(Allowed("a whole number from 1 to 100"));
        RuleFor(o => o.Jobs.OutboxCoalesce).Must(t => t >= TimeSpan.Zero && t <= TimeSpan.FromSeconds(5)).WithMessage(Allowed("from 00:00:00 to 00:00:05"));
        RuleFor(o => o.Jobs.OutboxLease).Must(t => t >= TimeSpan.FromSeconds(5)).WithMessage(Allowed("at least 00:00:05 (a directory write must fit in it)"));
        RuleFor(o => o.Jobs.InstanceName).Matches("^[A-Za-z0-9._-]{1,60}$").When(o => !string.IsNullOrEmpty(o.Jobs.InstanceName))
            .WithMessage(Allowed("1 to 60 letters, digits, dots, dashes or underscores"));
        RuleFor(o => o.Jobs.DirectorySyncInterval).Must(Positive).WithMessage(PositiveSpan);
        RuleFor(o => o.Jobs.DriftInterval).Must(Positive).WithMessage(PositiveSpan);
        RuleFor(o => o.Jobs.ChangeFeedInterval).Must(Positive).WithMessage(PositiveSpan);

        RuleFor(o => o.StepUp.FreshFor).Must(t => t > TimeSpan.Zero && t <= TimeSpan.FromHours(1)).WithMessage(Allowed("more than zero and at most 01:00:00 (MFA at the moment of activation)"));
        RuleFor(o => o.StepUp.LockoutFor).Must(Positive).WithMessage(PositiveSpan);
        RuleFor(o => o.Activation.JustificationMinimum).InclusiveBetween(1, 100).WithMessage(Allowed("a whole number from 1 to 100"));
        RuleFor(o => o.StepUp.AuthenticationContext).Matches("^c([1-9]|[1-9][0-9])$").When(o => o.Mode == PimMode.Entra)
            .WithMessage(Allowed("a Conditional Access authentication context id, c1 to c99"));

        foreach (var (name, limits) in new (string, Func<PimOptions, AttemptLimits>)[] { ("SignIn", o => o.RateLimits.SignIn), ("StepUp", o => o.RateLimits.StepUp) })
        {
            foreach (var (scope, limit) in new (string, Func<AttemptLimits, WindowLimit>)[] { ("PerAddress", l => l.PerAddress), ("PerAccount", l => l.PerAccount) })
            {
                var key = $"Pim:RateLimits:{name}:{scope}";
                RuleFor(o => limit(limits(o)).PermitLimit).InclusiveBetween(0, 10_000).OverridePropertyName($"RateLimits.{name}.{scope}.PermitLimit")
                    .WithMessage(o => Line(key + ":PermitLimit", limit(limits(o)).PermitLimit, "a whole number from 0 (no limit) to 10000"));
                RuleFor(o => limit(limits(o)).Window).Must(t => t >= TimeSpan.FromSeconds(1) && t <= TimeSpan.FromDays(1)).OverridePropertyName($"RateLimits.{name}.{scope}.Window")
                    .WithMessage(o => Line(key + ":Window", limit(limits(o)).Window, "from 00:00:01 to 1.00:00:00"));
            }
        }

        RuleFor(o => o.Smtp).Custom((smtp, context) =>
        {
            if (!smtp.IsConfigured)
            {
                return;
            }

            if (smtp.Port is < 1 or > 65535)
            {
                context.AddFailure("Smtp.Port", Line("Pim:Smtp:Port", smtp.Port, "a port from 1 to 65535"));
            }
            else if (smtp.Security == SmtpSecurity.SslOnConnect && smtp.Port is 25 or 587)
            {
                context.AddFailure("Smtp.Port", Line("Pim:Smtp:Port", smtp.Port, "with Pim:Smtp:Security=SslOnConnect, the TLS port (usually 465); ports 25 and 587 speak STARTTLS (Security=StartTls)"));
            }
            else if (smtp.Security == SmtpSecurity.StartTls && smtp.Port == 465)
            {
                context.AddFailure("Smtp.Port", Line("Pim:Smtp:Port", smtp.Port, "with Pim:Smtp:Security=StartTls, a STARTTLS port (587 or 25); port 465 is TLS from the start (Security=SslOnConnect)"));
            }

            if (smtp.Security == SmtpSecurity.None && !string.IsNullOrEmpty(smtp.UserName))
            {
                context.AddFailure("Smtp.Security", Line("Pim:Smtp:Security", smtp.Security, "Auto, StartTls or SslOnConnect while Pim:Smtp:UserName is set: the password must not cross the network in clear"));
            }

            if (!string.IsNullOrEmpty(smtp.UserName) && string.IsNullOrEmpty(smtp.Password))
            {
                context.AddFailure("Smtp.Password", Line("Pim:Smtp:Password", "(empty)", "the password of Pim:Smtp:UserName"));
            }

            if (!MailboxAddress.TryParse(smtp.From, out _))
            {
                context.AddFailure("Smtp.From", Line("Pim:Smtp:From", smtp.From, "a mail address, e.g. PimPortal <pim@contoso.com>"));
            }

            if (smtp.Timeout <= TimeSpan.Zero)
            {
                context.AddFailure("Smtp.Timeout", Line("Pim:Smtp:Timeout", smtp.Timeout, "a positive time span, e.g. 00:00:30"));
            }
        });

        RuleFor(o => o.Alerts.Interval).Must(Positive).WithMessage(PositiveSpan);
        RuleFor(o => o.Alerts.GlobalAdministratorCount).InclusiveBetween(0, 1000).WithMessage(Allowed("a whole number from 0 to 1000"));
        RuleFor(o => o.Alerts.GlobalAdministratorShare).InclusiveBetween(0, 1).WithMessage(Allowed("a share from 0 to 1, e.g. 0.1"));
        RuleFor(o => o.Alerts.StaleAfterDays).InclusiveBetween(1, 3650).WithMessage(Allowed("a number of days from 1 to 3650"));
        RuleFor(o => o.Alerts.FrequentActivationCount).InclusiveBetween(1, 10_000).WithMessage(Allowed("a whole number from 1 to 10000"));
        RuleFor(o => o.Alerts.FrequentActivationWindow).Must(Positive).WithMessage(PositiveSpan);
        RuleFor(o => o.Alerts.EligibilityNotice).Must(t => t >= TimeSpan.Zero).WithMessage(Allowed("zero (no notice) or a positive time span, e.g. 14.00:00:00"));

        RuleFor(o => o.Audit.SealInterval).Must(Positive).WithMessage(PositiveSpan);
        RuleFor(o => o.Audit.Retention).Must(r => r is null || r >= TimeSpan.FromDays(1)).WithMessage(Allowed("unset (kept for ever) or at least 1.00:00:00"));
        RuleFor(o => o.Audit.ArchiveDirectory).Must(Writable).When(o => o.Audit.Retention is not null)
            .WithMessage(Allowed("a directory this process can create and write (pruned events are archived there before they are deleted)"));

        RuleFor(o => o.Reviews.Interval).Must(Positive).WithMessage(PositiveSpan);

        RuleFor(o => o.Telemetry.Prometheus.Token).NotEmpty().When(o => o.Telemetry.Prometheus.Enabled && !o.Telemetry.Prometheus.AllowAnonymous)
            .WithMessage(Line("Pim:Telemetry:Prometheus:Token", "(unset)", "a secret the scraper sends as a bearer token (or Pim:Telemetry:Prometheus:AllowAnonymous=true where only the scraper reaches /metrics)"));
        RuleFor(o => o.Telemetry.OtlpProtocol).Must(p => p is "Grpc" or "HttpProtobuf").WithMessage(Allowed("Grpc or HttpProtobuf"));
        RuleFor(o => o.Telemetry.OtlpEndpoint).Must(u => u is null || u.IsAbsoluteUri).WithMessage(Allowed("an absolute address, e.g. http://otel-collector:4317"));

        RuleFor(o => o.DataProtection.CertificatePath).NotEmpty()
            .When(o => o.Database.Provider != DatabaseProvider.Sqlite && !o.DataProtection.AllowUnencryptedKeys)
            .WithMessage(o => Line("Pim:DataProtection:CertificatePath", "(unset)",
                $"a certificate that encrypts the shared key ring at rest: on {o.Database.Provider} anyone who can read the database could otherwise forge a sign-in " +
                "(or set Pim:DataProtection:AllowUnencryptedKeys=true to accept that)"));
    }

    private const string PositiveSpan = "Pim:{PropertyPath} is '{PropertyValue}': allowed is a positive time span, e.g. 00:00:05.";

    private static bool Positive(TimeSpan value) => value > TimeSpan.Zero;

    private static string Allowed(string what) => "Pim:{PropertyPath} is '{PropertyValue}': allowed is " + what + ".";

    internal static string Line(string key, object? value, string what) => $"{key} is '{value}': allowed is {what}.";

    private static bool Writable(string directory)
    {
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-check-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false;
        }
    }
}

/// <summary>
/// Checks the configuration before the portal starts, and tells it in lines an operator can act on: binding errors (a
/// value that is not a number, a time span or one of the names allowed) and each rule of the validators above.
/// </summary>
public static class ConfigurationCheck
{
    /// <summary>The problems with <paramref name="options"/>, one line each; empty when none.</summary>
    public static IReadOnlyList<string> Problems(PimOptions options) => Problems(new PimOptionsValidator(), options);

    /// <summary>What <paramref name="validator"/> finds wrong with <paramref name="options"/>, one line each.</summary>
    public static IReadOnlyList<string> Problems<T>(IValidator<T> validator, T options)
    {
        ArgumentNullException.ThrowIfNull(validator);
        return [.. validator.Validate(options).Errors.Select(e => Dotted(e.ErrorMessage))];
    }

    /// <summary>FluentValidation names nested properties with dots (Jobs.OutboxLease); configuration keys use colons.</summary>
    private static string Dotted(string message)
    {
        var end = message.IndexOf(" is ", StringComparison.Ordinal);
        return end < 0 ? message : message[..end].Replace('.', ':').Replace(" ", "", StringComparison.Ordinal) + message[end..];
    }
}
