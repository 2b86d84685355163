using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PimPortal.Auth;
using PimPortal.Core.Directory;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Web;

/// <summary>
/// An open circuit of an account that is disabled loses its access on the next check (local accounts: 1 minute; Entra:
/// 4 minutes, within the 5 the hardening asks for), on the portal's clock — here a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class CircuitRevalidationTests : IClassFixture<PortalFactory>
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private readonly PortalFactory factory;

    public CircuitRevalidationTests(PortalFactory factory) => this.factory = factory;

    [Fact]
    public async Task ALocalAccountDisabled_WhileItsCircuitIsOpen_IsSignedOutOnTheNextCheck()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var provider = new PortalAuthenticationStateProvider(NullLogger<PortalAuthenticationStateProvider>.Instance,
            factory.Services.GetRequiredService<IServiceScopeFactory>(), factory.Services.GetRequiredService<IOptions<IdentityOptions>>(), time);
        await DisabledWhileSignedInAsync(provider, DemoOrganisation.Carol, async signedOut =>
        {
            time.Advance(TimeSpan.FromMinutes(1));

            Assert.False((await signedOut.WaitAsync(Guard)).User.Identity?.IsAuthenticated);
            Assert.False((await provider.GetAuthenticationStateAsync()).User.Identity?.IsAuthenticated);
        });
    }

    [Fact]
    public async Task AnEntraAccountDisabled_WhileItsCircuitIsOpen_IsSignedOutWithinFiveMinutes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var provider = new EntraSessionRevalidation(NullLogger<EntraSessionRevalidation>.Instance,
            factory.Services.GetRequiredService<IDbContextFactory<PimDbContext>>(), factory.Services.GetRequiredService<IDirectoryGateway>(), time);
        await DisabledWhileSignedInAsync(provider, DemoOrganisation.Dave, async signedOut =>
        {
            time.Advance(EntraSessionRevalidation.Interval);

            Assert.True(EntraSessionRevalidation.Interval <= TimeSpan.FromMinutes(5));
            Assert.False((await signedOut.WaitAsync(Guard)).User.Identity?.IsAuthenticated);
        });
    }

    [Fact]
    public async Task AnEnabledAccount_KeepsItsCircuit_ThroughManyChecks_AndAFailingCheckSignsOut()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var provider = new Scripted(time);
        var signedOut = SignedOut(provider);
        provider.SetAuthenticationState(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "x")], "test")))));

        for (var check = 1; check <= 5; check++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(check, await provider.Checked.Reader.ReadAsync().AsTask().WaitAsync(Guard));
        }

        Assert.False(signedOut.IsCompleted);
        provider.Fail = true;
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.False((await signedOut.WaitAsync(Guard)).User.Identity?.IsAuthenticated);
    }

    private static Task<AuthenticationState> SignedOut(AuthenticationStateProvider provider)
    {
        var done = new TaskCompletionSource<AuthenticationState>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.AuthenticationStateChanged += async state =>
        {
            var now = await state;
            if (now.User.Identity?.IsAuthenticated != true)
            {
                done.TrySetResult(now);
            }
        };
        return done.Task;
    }

    /// <summary>
    /// <paramref name="account"/>'s circuit open on <paramref name="provider"/>, then the account disabled; <paramref name="then"/>
    /// gets the sign-out to wait for. The account is enabled again afterwards (the fixture's database is shared).
    /// </summary>
    private async Task DisabledWhileSignedInAsync(AuthenticationStateProvider provider, DemoAccount account, Func<Task<AuthenticationState>, Task> then)
    {
        ClaimsPrincipal user;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
            user = await signIn.CreateUserPrincipalAsync((await users.FindByIdAsync(account.Id.ToString()))!);
        }

        var signedOut = SignedOut(provider);
        ((IHostEnvironmentAuthenticationStateProvider)provider).SetAuthenticationState(Task.FromResult(new AuthenticationState(user)));
        await SetEnabledAsync(account, false);
        try
        {
            await then(signedOut);
        }
        finally
        {
            await SetEnabledAsync(account, true);
        }
    }

    private async Task SetEnabledAsync(DemoAccount account, bool enabled)
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        var principal = await db.Principals.SingleAsync(p => p.Id == account.Id);
        if (enabled)
        {
            principal.Enable();
        }
        else
        {
            principal.Disable();
        }

        await db.SaveChangesAsync();
    }

    /// <summary>A check that counts itself and fails (throws) when told to.</summary>
    private sealed class Scripted(TimeProvider time) : TimedRevalidation(time, NullLogger.Instance)
    {
        private int count;

        public System.Threading.Channels.Channel<int> Checked { get; } = System.Threading.Channels.Channel.CreateUnbounded<int>();

        public bool Fail { get; set; }

        protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

        protected override Task<bool> ValidateAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new InvalidOperationException("the store is gone");
            }

            Checked.Writer.TryWrite(++count);
            return Task.FromResult(true);
        }
    }
}
