// Tests of the LLM-judge reward against a fake OpenAI-compatible server on 127.0.0.1 (FakeChatServer.cs):
// a good answer and the request it came from, garbage, retry after 5xx/429/dropped connection, no retry on 404,
// endpoint down, timeout. Backoffs and timeouts are tens of milliseconds, so the class runs in about a second.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.LlmJudge"
using System.Diagnostics;
using System.Text.Json;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Rewards;
using Xunit;

namespace NanoMbpo.Tests.DialogIO;

public class LlmJudgeRewardTests
{
    static RewardContext Context(string reply = "Perfect, that's exactly what I wanted!") => new(
        [new Utterance(Speaker.Seller, "I'm KinPizza chatbot, what can I help you with"),
         new Utterance(Speaker.Customer, "two large pizzas with ham please")],
        "Two large ham pizzas, is that right?", reply, Done: false, Success: false, HungUp: false);

    static LlmJudgeOptions Options(string baseUrl) => new()
    {
        BaseUrl = baseUrl,
        Model = "judge-test-model",
        // Generous: no happy-path test waits for it, and a first request (JIT) on a loaded 2-core box can take seconds.
        Timeout = TimeSpan.FromSeconds(20),
        MaxRetries = 2,
        InitialBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(40),
    };

    [Fact]
    public void CorrectAnswerGivesMappedRewardAndSendsTheExpectedRequest()
    {
        using var server = new FakeChatServer((_, _) => FakeReply.Chat(" 4\n"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl));
        RewardContext ctx = Context();

        Assert.Equal(4, judge.Score(ctx));
        Assert.Equal(0.5, judge.Reward(ctx), 12);

        Assert.Equal(2, server.Requests.Count);
        FakeRequest req = server.Requests[0];
        Assert.StartsWith("POST /v1/chat/completions ", req.RequestLine);
        using JsonDocument doc = JsonDocument.Parse(req.Body);
        JsonElement root = doc.RootElement;
        Assert.Equal("judge-test-model", root.GetProperty("model").GetString());
        Assert.Equal(0.0, root.GetProperty("temperature").GetDouble());
        Assert.InRange(root.GetProperty("max_tokens").GetInt32(), 1, 8);
        JsonElement messages = root.GetProperty("messages");
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Contains("single digit", messages[0].GetProperty("content").GetString());
        string user = messages[1].GetProperty("content").GetString()!;
        Assert.Equal("user", messages[1].GetProperty("role").GetString());
        Assert.Contains("Customer: Perfect, that's exactly what I wanted!", user);
        Assert.Contains("Seller: Two large ham pizzas, is that right?", user);
        Assert.Contains("Customer: two large pizzas with ham please", user);
        Assert.Equal(req.Body, server.Requests[1].Body); // same context, same bytes
    }

    [Fact]
    public void RewardMappingIsConfigurable()
    {
        using var server = new FakeChatServer((_, _) => FakeReply.Chat("5"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { RewardMapping = LlmJudgeOptions.UnitInterval });
        Assert.Equal(1.0, judge.Reward(Context()), 12);
        Assert.Equal(-1.0, LlmJudgeOptions.Centered(1), 12);
        Assert.Equal(0.0, LlmJudgeOptions.Centered(3), 12);
    }

    [Fact]
    public void GarbageAnswerThrowsNamingEndpointAndQuotingTheAnswer()
    {
        using var server = new FakeChatServer((_, _) => FakeReply.Chat("I'd say 4 out of 5"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl));
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(LlmJudgeFailure.Garbage, ex.Failure);
        Assert.Equal(1, ex.Attempts); // garbage is not retried by default
        Assert.Contains(server.BaseUrl, ex.Message);
        Assert.Contains("\"I'd say 4 out of 5\"", ex.Message);
        Assert.Equal("I'd say 4 out of 5", ex.Answer);
        Assert.Single(server.Requests);
    }

    [Fact]
    public void LongGarbageIsTruncatedInTheMessage()
    {
        string essay = string.Concat(Enumerable.Repeat("the customer seems fairly happy overall. ", 50));
        using var server = new FakeChatServer((_, _) => FakeReply.Chat(essay));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl));
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Contains("...\"", ex.Message);
        Assert.True(ex.Message.Length < 500, $"message too long: {ex.Message.Length}");
    }

    [Fact]
    public void BodyThatIsNotAChatCompletionIsGarbage()
    {
        using var server = new FakeChatServer((_, _) => new FakeReply(200, "<html>hello</html>"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl));
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(LlmJudgeFailure.Garbage, ex.Failure);
        Assert.Contains("not a chat completion", ex.Message);
        Assert.Contains("<html>hello</html>", ex.Message);
    }

    [Fact]
    public void GarbageRetriesAreBoundedByTheirOwnCount()
    {
        using var server = new FakeChatServer((n, _) => FakeReply.Chat(n == 0 ? "four" : "3"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { GarbageRetries = 1 });
        Assert.Equal(3, judge.Score(Context()));
        Assert.Equal(2, server.Requests.Count);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(429)]
    public void TransientStatusIsRetriedThenSucceeds(int status)
    {
        using var server = new FakeChatServer((n, _) => n == 0
            ? new FakeReply(status, "{\"error\":\"busy\"}", RetryAfter: status == 429 ? "0" : null)
            : FakeReply.Chat("2"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl));
        Assert.Equal(2, judge.Score(Context()));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public void DroppedConnectionIsRetriedThenSucceeds()
    {
        using var server = new FakeChatServer((n, _) => n == 0 ? new FakeReply(0, "", Drop: true) : FakeReply.Chat("5"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl));
        Assert.Equal(5, judge.Score(Context()));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public void PersistentServerErrorGivesUpAfterMaxRetriesWithStatusInMessage()
    {
        using var server = new FakeChatServer((_, _) => new FakeReply(500, "{\"error\":\"model crashed\"}"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl));
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(LlmJudgeFailure.HttpStatus, ex.Failure);
        Assert.Equal(500, ex.StatusCode);
        Assert.Equal(3, ex.Attempts);
        Assert.Equal(3, server.Requests.Count);
        Assert.Contains("HTTP 500", ex.Message);
        Assert.Contains("model crashed", ex.Message);
    }

    [Fact]
    public void NotFoundIsNotRetried()
    {
        using var server = new FakeChatServer((_, _) => new FakeReply(404, "{\"error\":\"model 'judge-test-model' not found\"}"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl));
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(404, ex.StatusCode);
        Assert.Equal(1, ex.Attempts);
        Assert.Single(server.Requests);
    }

    [Fact]
    public void EndpointDownFailsQuicklyWithAClearMessage()
    {
        int port = FakeChatServer.FreePort();
        using var judge = new LlmJudgeReward(Options($"http://127.0.0.1:{port}"));
        // "Quickly": refused connections fail at once, far below the 20 s per-attempt timeout of Options().
        var sw = Stopwatch.StartNew();
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        sw.Stop();
        Assert.Equal(LlmJudgeFailure.Unreachable, ex.Failure);
        Assert.Equal(3, ex.Attempts);
        Assert.Contains($"127.0.0.1:{port}/v1/chat/completions", ex.Message);
        Assert.Contains("unreachable", ex.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
    }

    [Fact]
    public void SlowServerTimesOutAndRetriesAreCounted()
    {
        using var server = new FakeChatServer((_, _) => FakeReply.Chat("3") with { Delay = TimeSpan.FromSeconds(60) });
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with
        {
            Timeout = TimeSpan.FromMilliseconds(150),
            MaxRetries = 1,
        });
        var sw = Stopwatch.StartNew();
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        sw.Stop();
        Assert.Equal(LlmJudgeFailure.Timeout, ex.Failure);
        Assert.Equal(2, ex.Attempts);
        Assert.Contains("did not answer within 0.15 s", ex.Message);
        Assert.Contains(server.BaseUrl, ex.Message);
        // Two 0.15 s attempts, nowhere near the server's 60 s; the margin is for a loaded machine.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }

    [Theory]
    [InlineData("4", 4)]
    [InlineData(" 5\n", 5)]
    [InlineData("1", 1)]
    [InlineData("0", null)]
    [InlineData("6", null)]
    [InlineData("4.", null)]
    [InlineData("44", null)]
    [InlineData("", null)]
    [InlineData("Score: 4", null)]
    [InlineData("٤", null)] // an Arabic-Indic four is not an ASCII digit
    public void ParseScoreIsStrict(string answer, int? expected) => Assert.Equal(expected, LlmJudgeReward.ParseScore(answer));

    [Fact]
    public void PromptKeepsOnlyTheRecentHistoryAndMarksASilentHangUp()
    {
        var history = Enumerable.Range(0, 20)
            .Select(i => new Utterance(i % 2 == 0 ? Speaker.Seller : Speaker.Customer, $"line {i}")).ToList();
        var ctx = new RewardContext(history, "Hello lovely.", "", Done: true, Success: false, HungUp: true);
        string prompt = LlmJudgeReward.BuildPrompt(ctx, 4);
        Assert.Contains("(earlier lines omitted)", prompt);
        Assert.DoesNotContain("line 15", prompt);
        Assert.Contains("Seller: line 16", prompt);
        Assert.Contains("Customer: line 19", prompt);
        Assert.Contains("hung up without a word", prompt);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/chat/completions")]
    [InlineData("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/chat/completions")]
    [InlineData("http://localhost:11434/v1/", "http://localhost:11434/v1/chat/completions")]
    public void CompletionsUriDoesNotDoubleTheVersion(string baseUrl, string expected) =>
        Assert.Equal(expected, new LlmJudgeOptions { BaseUrl = baseUrl, Model = "m" }.CompletionsUri().ToString());

    [Fact]
    public void BadOptionsNameTheField()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LlmJudgeReward(new LlmJudgeOptions { BaseUrl = "ftp://x", Model = "m" }));
        Assert.Contains("BaseUrl", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new LlmJudgeReward(Options("http://127.0.0.1:1") with { MaxRetries = -1 }));
        Assert.Contains("MaxRetries", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new LlmJudgeReward(Options("http://127.0.0.1:1") with { Timeout = TimeSpan.Zero }));
        Assert.Contains("Timeout", ex.Message);
    }
}
