using Snapshotter.Registry.Auth;

namespace Snapshotter.Registry.Tests.Auth;

public sealed class AuthChallengeTests
{
    [Fact]
    public void Parse_BearerChallenge_ReadsRealmServiceAndScope()
    {
        List<AuthChallenge> challenges = AuthChallenge.Parse(["Bearer realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\""]);

        AuthChallenge challenge = Assert.Single(challenges);
        Assert.True(challenge.IsBearer);
        Assert.Equal("https://auth.example/token", challenge.Realm);
        Assert.Equal("registry.example", challenge.Service);
        Assert.Equal("repository:a/b:pull,push", challenge.Scope);
    }

    [Fact]
    public void Parse_BasicAndBearerInOneHeader_ReturnsBoth()
    {
        List<AuthChallenge> challenges = AuthChallenge.Parse(["Basic realm=\"r\", Bearer realm=\"https://t/\", service=s"]);

        Assert.Equal(["Basic", "Bearer"], challenges.Select(c => c.Scheme));
        Assert.Equal("s", challenges[1].Service);
    }

    [Fact]
    public void Parse_EscapedQuote_Unescapes()
    {
        AuthChallenge challenge = Assert.Single(AuthChallenge.Parse(["Basic realm=\"a \\\"b\\\"\""]));

        Assert.Equal("a \"b\"", challenge.Realm);
    }
}
