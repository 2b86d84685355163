using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Security;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Security;

public sealed class SecretsAtRestOnSqlite() : SecretsAtRestTests(DatabaseKind.Sqlite);

public sealed class SecretsAtRestOnPostgreSql() : SecretsAtRestTests(DatabaseKind.PostgreSql);

/// <summary>
/// Authenticator keys are stored encrypted with the Data Protection key ring and bound to their account: the raw
/// column holds no secret, a key left in clear by an earlier version is encrypted on start, and a key copied onto
/// another account's row does not decrypt.
/// </summary>
public abstract class SecretsAtRestTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;

    [Fact]
    public async Task TheRawColumn_HoldsNoAuthenticatorSecret_AndCodesStillVerify()
    {
        var stored = await RawKeysAsync();

        Assert.Equal(DemoOrganisation.Accounts.Count, stored.Count);
        Assert.All(stored, v => Assert.StartsWith("dp1:", v, StringComparison.Ordinal));
        Assert.All(DemoOrganisation.Accounts, a => Assert.DoesNotContain(stored, v => v.Contains(a.TotpSecret, StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(ActivationRequestStatus.Approved, (await App.ActivateAsync(Alice, DemoOrganisation.UserAdministrator)).RequestStatus);
    }

    [Fact]
    public async Task AKeyLeftInClearByAnEarlierVersion_IsEncryptedOnStart_AndStillVerifies()
    {
        await App.Db(db => db.UserTokens.Where(t => t.UserId == Alice.Id && t.Name == AuthenticatorKeys.Name)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.Value, Alice.TotpSecret)));
        Assert.Contains(Alice.TotpSecret, await RawKeysAsync());

        await using (var scope = App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DatabaseInitializer>().InitializeAsync(CancellationToken.None);
        }

        var stored = await RawKeysAsync();
        Assert.DoesNotContain(stored, v => v.Contains(Alice.TotpSecret, StringComparison.OrdinalIgnoreCase));
        Assert.All(stored, v => Assert.StartsWith("dp1:", v, StringComparison.Ordinal));
        Assert.Equal(ActivationRequestStatus.Approved, (await App.ActivateAsync(Alice, DemoOrganisation.UserAdministrator)).RequestStatus);
        Assert.Equal(0, await App.Db(db => App.Services.GetRequiredService<AuthenticatorKeys>().ProtectStoredAsync(db, CancellationToken.None)));
    }

    [Fact]
    public async Task AKeyCopiedFromAnotherAccount_DoesNotDecrypt_AndTheStepUpSaysWhatToDo()
    {
        var bobs = await App.Db(db => db.UserTokens.Where(t => t.UserId == DemoOrganisation.Bob.Id && t.Name == AuthenticatorKeys.Name).Select(t => t.Value).SingleAsync());
        await App.Db(db => db.UserTokens.Where(t => t.UserId == Alice.Id && t.Name == AuthenticatorKeys.Name)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.Value, bobs)));
        var eligibility = await App.EligibilityOf(Alice, DemoOrganisation.UserAdministrator);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Reset a user's MFA", null, null, App.CodeFor(DemoOrganisation.Bob))));

        Assert.Contains("cannot be read", refused.Message, StringComparison.Ordinal);
        Assert.Contains("set up your authenticator again", refused.Message, StringComparison.Ordinal);
    }

    private Task<List<string>> RawKeysAsync() => App.Db(async db =>
    {
        // The column as the database holds it, past any EF conversion.
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT "Value" FROM "AspNetUserTokens" WHERE "Name" = 'AuthenticatorKey'""";
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    });
}
