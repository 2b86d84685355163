using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace PimPortal.Core.Notifications;

/// <summary>Sends one mail through the configured SMTP server (MailKit).</summary>
public interface IMailSender
{
    Task SendAsync(string to, string subject, string body, CancellationToken cancellationToken);

    /// <summary>Whether the mail server takes a connection (and the sign-in) now — for the readiness probe. Throws what went wrong.</summary>
    Task CheckAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>MailKit over the <c>Pim:Smtp</c> settings: a connection per batch would be faster, a connection per mail is simpler and survives a server restart.</summary>
public sealed class SmtpMailSender(IOptions<PimOptions> options) : IMailSender
{
    public async Task SendAsync(string to, string subject, string body, CancellationToken cancellationToken)
    {
        var smtp = options.Value.Smtp;
        if (!smtp.IsConfigured)
        {
            throw new InvalidOperationException("No SMTP server is configured (Pim:Smtp:Host).");
        }

        using var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(smtp.From));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = body };

        using var client = await ConnectAsync(smtp, cancellationToken);
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        using var client = await ConnectAsync(options.Value.Smtp, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    private static async Task<SmtpClient> ConnectAsync(SmtpOptions smtp, CancellationToken cancellationToken)
    {
        var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        try
        {
            await SignInAsync(client, smtp, cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static async Task SignInAsync(SmtpClient client, SmtpOptions smtp, CancellationToken cancellationToken)
    {
        var security = smtp.Security switch
        {
            SmtpSecurity.None => SecureSocketOptions.None,
            SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
            SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,

            // With credentials to send, TLS is required rather than taken when offered (it could be stripped).
            _ when !string.IsNullOrEmpty(smtp.UserName) => SecureSocketOptions.StartTls,
            _ => SecureSocketOptions.Auto,
        };
        await client.ConnectAsync(smtp.Host!, smtp.Port, security, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", cancellationToken);
        }
    }
}
