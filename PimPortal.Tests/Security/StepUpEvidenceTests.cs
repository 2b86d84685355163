using System.Security.Claims;
using PimPortal.Core.Domain;
using PimPortal.Core.Security;

namespace PimPortal.Tests.Security;

/// <summary>What proves a Conditional Access step-up, with hand-built token principals.</summary>
public sealed class StepUpEvidenceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid User = Guid.NewGuid();
    private static readonly TimeSpan FreshFor = TimeSpan.FromMinutes(5);

    [Fact]
    public void TheUsersOwnTokenWithTheContextAndARecentAuthentication_Verifies()
    {
        Assert.Null(StepUpEvidence.Refusal(Token(User, "c1", Now.AddSeconds(-20)), Challenge(), "c1", FreshFor, Now));
    }

    [Fact]
    public void SeveralContexts_OneOfThemAskedFor_Verifies()
    {
        Assert.Null(StepUpEvidence.Refusal(Token(User, "c2,c1", Now.AddSeconds(-20)), Challenge(), "c1", FreshFor, Now));
    }

    [Fact]
    public void AnotherUsersToken_DoesNotVerify()
    {
        Assert.Equal("the token is for another user", StepUpEvidence.Refusal(Token(Guid.NewGuid(), "c1", Now), Challenge(), "c1", FreshFor, Now));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("c2")]
    [InlineData("C1")]
    public void ATokenWithoutTheContextAskedFor_DoesNotVerify(string? acrs)
    {
        Assert.Equal("the token does not carry the authentication context c1", StepUpEvidence.Refusal(Token(User, acrs, Now), Challenge(), "c1", FreshFor, Now));
    }

    [Fact]
    public void AnOldAuthentication_DoesNotVerify_EvenWithTheContext()
    {
        Assert.Equal("the authentication is not recent", StepUpEvidence.Refusal(Token(User, "c1", Now.AddMinutes(-6)), Challenge(), "c1", FreshFor, Now));
    }

    [Fact]
    public void ATokenWithoutAnyAuthenticationTime_DoesNotVerify()
    {
        var token = new ClaimsPrincipal(new ClaimsIdentity([new Claim("oid", User.ToString()), new Claim("acrs", "c1")], "Test"));

        Assert.Equal("the token does not say when the user authenticated (add the auth_time optional claim)", StepUpEvidence.Refusal(token, Challenge(), "c1", FreshFor, Now));
    }

    [Fact]
    public void ATokenIssuedNow_ForAnOldAuthentication_DoesNotVerify()
    {
        var token = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim("oid", User.ToString()), new Claim("acrs", "c1"),
            new Claim("iat", Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new Claim("auth_time", Now.AddHours(-3).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ], "Test"));

        Assert.Equal("the authentication is not recent", StepUpEvidence.Refusal(token, Challenge(), "c1", FreshFor, Now));
    }

    [Fact]
    public void AStepUpStartedLongAgo_OrAlreadyVerified_CannotBeVerified()
    {
        var old = new StepUpChallenge(Guid.NewGuid(), User, "{}", Now.AddMinutes(-6));
        var verified = Challenge();
        verified.Verified("c1", Now);

        Assert.Equal("the step-up was started too long ago", StepUpEvidence.Refusal(Token(User, "c1", Now), old, "c1", FreshFor, Now));
        Assert.Equal("the step-up was already verified", StepUpEvidence.Refusal(Token(User, "c1", Now), verified, "c1", FreshFor, Now));
    }

    [Fact]
    public void EntrasObjectIdClaimType_IsRead_AsWellAsTheShortOne()
    {
        var token = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(StepUpEvidence.ObjectIdClaim, User.ToString()), new Claim("acrs", "c1"), new Claim("auth_time", Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture))], "Test"));

        Assert.Null(StepUpEvidence.Refusal(token, Challenge(), "c1", FreshFor, Now));
    }

    [Theory]
    [InlineData("stepup:0f8fad5b-d9cb-469f-a165-70867728950e", true)]
    [InlineData("stepup:not-a-guid", false)]
    [InlineData("123456", false)]
    [InlineData(null, false)]
    public void AProof_NamesItsStepUp(string? proof, bool valid)
    {
        Assert.Equal(valid, StepUpProof.TryParse(proof, out var id));
        Assert.Equal(valid ? StepUpProof.For(id) : null, valid ? proof : null);
    }

    private static StepUpChallenge Challenge() => new(Guid.NewGuid(), User, "{}", Now.AddSeconds(-30));

    public static ClaimsPrincipal Token(Guid oid, string? acrs, DateTimeOffset authenticatedAt)
    {
        var claims = new List<Claim>
        {
            new("oid", oid.ToString()),
            new("auth_time", authenticatedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("name", "Alice Adams"),
        };
        if (acrs is not null)
        {
            claims.Add(new Claim("acrs", acrs));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, "AuthenticationTypes.Federation"));
    }
}
