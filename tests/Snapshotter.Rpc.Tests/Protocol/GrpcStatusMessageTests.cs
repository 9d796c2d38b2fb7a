using Snapshotter.Rpc.Protocol;

namespace Snapshotter.Rpc.Tests.Protocol;

public sealed class GrpcStatusMessageTests
{
    [Theory]
    [InlineData("plain ascii text", "plain ascii text")]
    [InlineData("100%", "100%25")]
    [InlineData("x% ü", "x%25 %C3%BC")]
    [InlineData("line1\nline2\t\r", "line1%0Aline2%09%0D")]
    [InlineData("\u007F~ ", "%7F~ ")]
    [InlineData("日本", "%E6%97%A5%E6%9C%AC")]
    [InlineData("emoji 😀", "emoji %F0%9F%98%80")]
    [InlineData("", "")]
    public void Encode_Message_PercentEncodesUtf8BytesOutsidePrintableAscii(string message, string expected)
    {
        Assert.Equal(expected, GrpcStatusMessage.Encode(message));
    }

    [Theory]
    [InlineData("plain ascii text")]
    [InlineData("%%%")]
    [InlineData("x% ü")]
    [InlineData("ctl \u0001\u001F\n end")]
    [InlineData("日本語 😀 %41")]
    public void Decode_EncodedMessage_RoundTrips(string message)
    {
        Assert.Equal(message, GrpcStatusMessage.Decode(GrpcStatusMessage.Encode(message)));
    }

    [Theory]
    [InlineData("%", "%")]
    [InlineData("abc%", "abc%")]
    [InlineData("%4", "%4")]
    [InlineData("%zz ok", "%zz ok")]
    [InlineData("%G1%41", "%G1A")]
    [InlineData("%c3%bc", "ü")]
    [InlineData("50%-off", "50%-off")]
    public void Decode_MalformedOrLowerCaseEscapes_LeavesMalformedAsIs(string encoded, string expected)
    {
        Assert.Equal(expected, GrpcStatusMessage.Decode(encoded));
    }

    [Fact]
    public void Decode_InvalidUtf8Bytes_UsesReplacementCharacterInsteadOfThrowing()
    {
        Assert.Equal("a\uFFFDb", GrpcStatusMessage.Decode("a%FFb"));
    }
}
