using CsCheck;
using PimPortal.Auth;
using PimPortal.Core.Security;

namespace PimPortal.Tests.Properties;

/// <summary>Pure checks of what users and browsers send, over generated input: 10,000 cases each, no exception.</summary>
public sealed class InputProperties
{
    private const int Cases = 10_000;

    /// <summary>Strings that look like what an attacker would try: schemes, slashes, backslashes, controls, encodings.</summary>
    private static readonly Gen<string> Urls = Gen.OneOf(
        Gen.String,
        Gen.String[Gen.Char["/\\:%.@?#&=aZ09 \t\r\n\u0000\u202e"], 0, 30],
        Gen.Select(Gen.OneOf(Gen.Const("/"), Gen.Const("//"), Gen.Const("/\\"), Gen.Const("\\\\"), Gen.Const("https://"), Gen.Const("javascript:"), Gen.Const("/%2F")),
            Gen.String[Gen.Char.AlphaNumeric, 0, 12], (prefix, rest) => prefix + rest));

    [Fact]
    public void TheReturnUrl_IsAlwaysALocalPath_AndNeverLeavesTheSite()
    {
        var kept = 0;
        Urls.Sample(candidate =>
        {
            var safe = ReturnUrl.Safe(candidate);

            Assert.StartsWith("/", safe, StringComparison.Ordinal);
            Assert.False(safe.StartsWith("//", StringComparison.Ordinal) || safe.StartsWith("/\\", StringComparison.Ordinal), safe);
            Assert.DoesNotContain('\\', safe);
            Assert.False(safe.Any(char.IsControl), "a control character kept");
            var resolved = new Uri(new Uri("https://pim.contoso.test/"), safe);
            Assert.Equal("pim.contoso.test", resolved.Host);
            Assert.True(safe == "/" || safe == candidate, "a kept address is kept as it was");
            if (safe != "/")
            {
                Interlocked.Increment(ref kept);
            }
        }, iter: Cases);

        Assert.True(kept > Cases / 100, $"only {kept} of {Cases} addresses were local paths: the generator says little");
    }

    [Fact]
    public void ATotpCode_VerifiesAtItsOwnStep_AndWithinTheDrift_AndNowhereElse() =>
        Gen.Select(Gen.Byte.Array[10, 32], Gen.Long[1_000_000, 100_000_000], Gen.Int[-4, 4]).Sample((key, step, offset) =>
        {
            var code = Totp.Compute(key, step);
            var at = DateTimeOffset.FromUnixTimeSeconds((step + offset) * (long)Totp.Step.TotalSeconds);

            var matched = Totp.Verify(key, code, at);

            Assert.Matches("^[0-9]{6}$", code);
            if (Math.Abs(offset) <= Totp.AllowedDriftSteps)
            {
                Assert.Equal(step, matched);
            }
            else
            {
                // A code of a far step may still equal a near step's by chance (one in a million): then it names that step.
                Assert.True(matched is null || Math.Abs(matched.Value - (step + offset)) <= Totp.AllowedDriftSteps);
            }

            Assert.Equal(matched, Totp.Verify(key, code[..3] + " " + code[3..], at));
        }, iter: Cases);

    [Fact]
    public void AnythingTypedAsACode_IsAnsweredWithoutAnException() =>
        Gen.Select(Gen.Byte.Array[10, 32], Gen.String).Sample((key, typed) =>
        {
            var matched = Totp.Verify(key, typed, DateTimeOffset.UnixEpoch.AddYears(56));
            Assert.True(matched is null || Totp.IsWellFormed(typed));
        }, iter: Cases);
}
