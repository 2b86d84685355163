using OtpNet;
using PimPortal.Core.Security;
using PimPortal.Core.Seed;
using Totp = PimPortal.Core.Security.Totp;

namespace PimPortal.Tests.Security;

public sealed class TotpTests
{
    // RFC 6238 appendix B: SHA1 key "12345678901234567890"; at T=59 s the 8-digit code is 94287082.
    private static readonly byte[] RfcKey = "12345678901234567890"u8.ToArray();

    [Theory]
    [InlineData(59, "287082")]
    [InlineData(1111111109, "081804")]
    [InlineData(1234567890, "005924")]
    [InlineData(2000000000, "279037")]
    public void Compute_MatchesTheRfcTestVectors(long unixSeconds, string expected) =>
        Assert.Equal(expected, Totp.Compute(RfcKey, Totp.TimeStepAt(DateTimeOffset.FromUnixTimeSeconds(unixSeconds))));

    [Theory]
    [MemberData(nameof(DemoSecrets))]
    public void Compute_AgreesWithAnAuthenticatorApp_ForEveryDemoAccount(string secret)
    {
        var at = new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

        var expected = new OtpNet.Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(at.UtcDateTime);

        Assert.Equal(expected, Totp.Compute(Base32.Decode(secret), Totp.TimeStepAt(at)));
    }

    [Fact]
    public void Verify_ReturnsTheMatchedStep_WithinOneStepOfDrift()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var step = Totp.TimeStepAt(now);

        Assert.Equal(step, Totp.Verify(RfcKey, Totp.Compute(RfcKey, step), now));
        Assert.Equal(step - 1, Totp.Verify(RfcKey, Totp.Compute(RfcKey, step - 1), now));
        Assert.Equal(step + 1, Totp.Verify(RfcKey, Totp.Compute(RfcKey, step + 1), now));
        Assert.Null(Totp.Verify(RfcKey, Totp.Compute(RfcKey, step - 2), now));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12345")]
    [InlineData("1234567")]
    [InlineData("12a456")]
    public void Verify_RefusesMalformedCodes(string code) =>
        Assert.Null(Totp.Verify(RfcKey, code, DateTimeOffset.UnixEpoch.AddSeconds(59)));

    [Fact]
    public void Verify_AcceptsACodeTypedWithASpace() =>
        Assert.NotNull(Totp.Verify(RfcKey, "287 082", DateTimeOffset.UnixEpoch.AddSeconds(59)));

    [Fact]
    public void Base32_RoundTrips()
    {
        var bytes = Enumerable.Range(0, 37).Select(i => (byte)(i * 7)).ToArray();

        Assert.Equal(bytes, Base32.Decode(Base32.Encode(bytes)));
        Assert.Equal(Base32Encoding.ToString(bytes).TrimEnd('='), Base32.Encode(bytes));
        Assert.Throws<FormatException>(() => Base32.Decode("ABC1"));
    }

    public static TheoryData<string> DemoSecrets() => [.. DemoOrganisation.Accounts.Select(a => a.TotpSecret)];
}
