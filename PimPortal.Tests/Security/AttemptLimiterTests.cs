using Microsoft.Extensions.Options;
using PimPortal.Core;
using PimPortal.Core.Security;

namespace PimPortal.Tests.Security;

/// <summary>The attempt limits: failures counted per address and per account; checking counts nothing.</summary>
public sealed class AttemptLimiterTests
{
    [Fact]
    public void WrongPasswordsFromOneAddress_ForManyAccounts_SlowThatAddress_AndNoOther()
    {
        using var limiter = new AttemptLimiter(Options.Create(new PimOptions()));
        for (var i = 0; i < 5; i++)
        {
            Assert.True(limiter.Check(AttemptKind.SignIn, "203.0.113.66", $"user{i}@contoso.test").IsAllowed);
            limiter.CountFailure(AttemptKind.SignIn, "203.0.113.66", $"user{i}@contoso.test");
        }

        var refused = limiter.Check(AttemptKind.SignIn, "203.0.113.66", "someone-new@contoso.test");
        var again = limiter.Check(AttemptKind.SignIn, "203.0.113.66", "someone-new@contoso.test");

        Assert.Equal((false, "address", true), (refused.IsAllowed, refused.Limit, refused.ShouldAudit));
        Assert.InRange(refused.RetryAfterSeconds, 1, 60);
        Assert.Equal((false, false), (again.IsAllowed, again.ShouldAudit));
        Assert.True(limiter.Check(AttemptKind.SignIn, "198.51.100.7", "someone-new@contoso.test").IsAllowed);
        Assert.True(limiter.Check(AttemptKind.StepUp, "203.0.113.66", "someone-new@contoso.test").IsAllowed);
    }

    [Fact]
    public void WrongPasswordsForOneAccount_FromManyAddresses_SlowThatAccount_WhateverItsCase()
    {
        using var limiter = new AttemptLimiter(Options.Create(new PimOptions()));
        for (var i = 0; i < 8; i++)
        {
            limiter.CountFailure(AttemptKind.SignIn, $"198.51.100.{i}", i % 2 == 0 ? "carol@contoso.test" : " CAROL@contoso.test ");
        }

        var refused = limiter.Check(AttemptKind.SignIn, "192.0.2.1", "Carol@Contoso.test");

        Assert.Equal((false, "account"), (refused.IsAllowed, refused.Limit));
        Assert.InRange(refused.RetryAfterSeconds, 1, 300);
        Assert.True(limiter.Check(AttemptKind.SignIn, "192.0.2.1", "dave@contoso.test").IsAllowed);
    }

    [Fact]
    public void Checking_CountsNothing_AndALimitOfZero_IsOff()
    {
        var options = new PimOptions();
        options.RateLimits.StepUp.PerAccount.PermitLimit = 0;
        using var limiter = new AttemptLimiter(Options.Create(options));

        for (var i = 0; i < 100; i++)
        {
            Assert.True(limiter.Check(AttemptKind.SignIn, "203.0.113.1", "alice@contoso.test").IsAllowed);
        }

        for (var i = 0; i < 9; i++)
        {
            limiter.CountFailure(AttemptKind.StepUp, $"198.51.100.{i}", "alice");
        }

        Assert.True(limiter.Check(AttemptKind.StepUp, "198.51.100.200", "alice").IsAllowed);
    }
}
