using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Notifications;
using PimPortal.Core.Notifications;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Notifications;

/// <summary>Notifications mailed through MailKit to a real SMTP server running in the test.</summary>
public sealed class MailTests : IAsyncLifetime
{
    private SmtpTestServer? smtp;
    private TestApp? app;

    private SmtpTestServer Smtp => smtp!;

    private TestApp App => app!;

    public async ValueTask InitializeAsync()
    {
        smtp = await SmtpTestServer.StartAsync();
        app = await StartAppAsync(smtp.Port);
    }

    [Fact]
    public async Task ANewRequest_IsMailedToEveryApprover_WithALinkToIt()
    {
        var id = await App.RequestAsync(DemoOrganisation.Alice, DemoOrganisation.GlobalAdministrator);

        Assert.Equal(2, await Mail.SendDueAsync(CancellationToken.None));

        Assert.Equal(["bob@contoso.test", "erin@contoso.test"], Smtp.Messages.SelectMany(m => m.To.Mailboxes).Select(m => m.Address).Order());
        var message = Smtp.Messages.First();
        Assert.Equal("Approval needed: Alice Adams requests Global Administrator", message.Subject);
        Assert.Equal("pimportal@localhost", message.From.Mailboxes.Single().Address);
        Assert.Contains($"https://pim.contoso.test/requests/{id}", message.TextBody, StringComparison.Ordinal);
        Assert.All(await App.NotificationsAsync(DemoOrganisation.Bob), n => Assert.Equal(EmailStatus.Sent, n.EmailStatus));
        Assert.Equal(0, await Mail.SendDueAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ARolesFurtherRecipients_AreMailedOnActivation_WithoutABellOfTheirOwn()
    {
        var exchange = DemoOrganisation.ExchangeAdministrator;
        await App.UpdateSettingsAsync(exchange, s => s.WithRule(new Core.Features.Settings.NotificationRuleInput(
            RoleNotificationEvent.Activated, NotifyAdministrators: true, NotifyAssignee: false, ["soc@contoso.test"])));

        await App.ActivateAsync(DemoOrganisation.Alice, exchange);
        Assert.Equal(2, await Mail.SendDueAsync(CancellationToken.None));

        Assert.Equal(["erin@contoso.test", "soc@contoso.test"], Smtp.Messages.SelectMany(m => m.To.Mailboxes).Select(m => m.Address).Order());
        var toSoc = Assert.Single(Smtp.Messages, m => m.To.Mailboxes.Single().Address == "soc@contoso.test");
        Assert.Equal("Alice Adams activated Exchange Administrator", toSoc.Subject);
        Assert.Contains("https://pim.contoso.test/requests/", toSoc.TextBody, StringComparison.Ordinal);
        Assert.Single(await App.NotificationsAsync(DemoOrganisation.Erin));
    }

    [Fact]
    public async Task TheDecision_IsMailedToTheRequester()
    {
        var id = await App.RequestAsync(DemoOrganisation.Alice, DemoOrganisation.GlobalAdministrator);
        await App.DenyAsync(DemoOrganisation.Erin, id, "Use the break-glass procedure instead");

        await Mail.SendDueAsync(CancellationToken.None);

        var toAlice = Assert.Single(Smtp.Messages, m => m.To.Mailboxes.Single().Address == "alice@contoso.test");
        Assert.Equal("Your request for Global Administrator was denied", toAlice.Subject);
        Assert.Contains("Erin Evans: Use the break-glass procedure instead", toAlice.TextBody, StringComparison.Ordinal);
        Assert.Contains($"https://pim.contoso.test/requests/{id}", toAlice.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerThatIsDown_IsRetriedWithBackoff_ThenGivenUpAndAudited_WhileTheNotificationStaysInThePortal()
    {
        await using var down = await StartAppAsync(SmtpTestServer.FreePort());
        await down.RequestAsync(DemoOrganisation.Alice, DemoOrganisation.GlobalAdministrator);
        var mail = down.Services.GetRequiredService<MailProcessor>();

        for (var attempt = 1; attempt <= Notification.MaxEmailAttempts; attempt++)
        {
            Assert.Equal(2, await mail.SendDueAsync(CancellationToken.None));
            Assert.Equal(0, await mail.SendDueAsync(CancellationToken.None));
            down.Time.Advance(TimeSpan.FromHours(1));
        }

        var toBob = Assert.Single(await down.NotificationsAsync(DemoOrganisation.Bob));
        Assert.Equal((EmailStatus.Failed, Notification.MaxEmailAttempts), (toBob.EmailStatus, toBob.EmailAttempts));
        Assert.NotNull(toBob.EmailError);
        Assert.Equal(2, (await down.AuditAsync(AuditActions.NotificationMailFailed)).Count);
        var inPortal = await down.QueryAs(DemoOrganisation.Bob, new GetMyNotifications());
        Assert.Equal((1, true), (inPortal.Unread, inPortal.MailEnabled));
    }

    [Fact]
    public async Task WithoutSmtp_NotificationsStayInThePortal_AndSaySo()
    {
        await using var embedded = await TestApp.StartAsync(DatabaseKind.Sqlite);
        var id = await embedded.RequestAsync(DemoOrganisation.Alice, DemoOrganisation.GlobalAdministrator);

        var bobs = await embedded.QueryAs(DemoOrganisation.Bob, new GetMyNotifications());

        Assert.False(bobs.MailEnabled);
        Assert.Equal((1, $"/requests/{id}", EmailStatus.NotSent), (bobs.Unread, bobs.Items.Single().Link, bobs.Items.Single().EmailStatus));
        Assert.Equal(0, await embedded.Services.GetRequiredService<MailProcessor>().SendDueAsync(CancellationToken.None));

        await embedded.SendAs(DemoOrganisation.Bob, new MarkNotificationsRead());
        Assert.Equal(0, (await embedded.QueryAs(DemoOrganisation.Bob, new GetMyNotifications())).Unread);
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        if (smtp is not null)
        {
            await smtp.DisposeAsync();
        }
    }

    private MailProcessor Mail => App.Services.GetRequiredService<MailProcessor>();

    private static Task<TestApp> StartAppAsync(int port) =>
        TestApp.StartAsync(DatabaseKind.Sqlite, settings: new Dictionary<string, string?>
        {
            ["Pim:Smtp:Host"] = "127.0.0.1",
            ["Pim:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Pim:Smtp:Security"] = "None",
            ["Pim:Smtp:Timeout"] = "00:00:05",
            ["Pim:PublicUrl"] = "https://pim.contoso.test",
        });
}
