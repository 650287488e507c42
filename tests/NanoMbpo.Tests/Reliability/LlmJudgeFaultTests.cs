// The LLM judge under faults (FaultyHttpServer): stalls, closed and reset connections, HTTP 500/429 with
// Retry-After, garbage and slow answers. Checks bounded retries with backoff and jitter, the per-call and per-run
// budgets, one clear LlmJudgeException (never another type) and a run whose data saved before the failure stays
// intact. CsCheck also throws random raw HTTP answers at it. Timeouts and backoffs are short (tens of ms).
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CsCheck;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Rewards;
using NanoMbpo.IO;
using Xunit;

namespace NanoMbpo.Tests.Reliability;

public sealed class LlmJudgeFaultTests
{
    static RewardContext Context() => new(
        [new Utterance(Speaker.Seller, "What can I get you?"), new Utterance(Speaker.Customer, "a large pizza please")],
        "One large pizza, anything else?", "No, that's all, thanks!", Done: false, Success: false, HungUp: false);

    static LlmJudgeOptions Options(string url) => new()
    {
        BaseUrl = url, Model = "fault-test", Timeout = TimeSpan.FromSeconds(10), MaxRetries = 3,
        InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(40),
    };

    [Fact]
    public void StallCloseAndResetAreRetriedThenTheAnswerIsUsed()
    {
        using var server = new FaultyHttpServer(n => n switch { 0 => new Fault(Stall: true), 1 => new Fault(Close: true), 2 => new Fault(Reset: true), _ => Fault.Score("4") });
        // Three faults need three retries; the margin absorbs a spurious failure of a loaded machine (a
        // pooled connection the server had just closed; seen once in a CI run), which is retried the same way.
        // The per-attempt limit is 2 s, not 0.3 s: in a CI run on 2 loaded cores every attempt after the stall
        // timed out at 0.3 s (7 of 7) though the server answers at once; the stall alone costs the 2 s.
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { Timeout = TimeSpan.FromSeconds(2), MaxRetries = 6 });
        Assert.Equal(4, judge.Score(Context()));
        Assert.InRange(server.Requests, 4, 7);
    }

    [Fact]
    public void RetryAfterIsHonouredUpToMaxBackoff()
    {
        using var server = new FaultyHttpServer(n => n == 0 ? Fault.Http(429, "{\"error\":\"slow down\"}", "Retry-After: 1\r\n") : Fault.Score("5"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { MaxBackoff = TimeSpan.FromSeconds(2), Jitter = 0.1 });
        var sw = Stopwatch.StartNew();
        Assert.Equal(5, judge.Score(Context()));
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(850), $"waited only {sw.Elapsed} after Retry-After: 1 (jitter 10%)");
    }

    [Fact]
    public void PersistentServerErrorsStopAfterMaxRetriesWithAClearError()
    {
        using var server = new FaultyHttpServer(_ => Fault.Http(500, "{\"error\":\"boom\"}"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl));
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(LlmJudgeFailure.HttpStatus, ex.Failure);
        Assert.Equal(4, ex.Attempts);
        Assert.Equal(4, server.Requests);
        Assert.Contains("HTTP 500", ex.Message);
        Assert.Contains(server.BaseUrl, ex.Message);
    }

    [Theory]
    [InlineData("this is not HTTP at all\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"choices\":")]       // truncated body
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")]                    // not a chat completion
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{\"choices\":[{\"message\":{\"content\":7}}]}")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]
    public void GarbageAnswersGiveAJudgeErrorNeverAnotherType(string raw)
    {
        using var server = new FaultyHttpServer(_ => new Fault(Encoding.Latin1.GetBytes(raw)));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { MaxRetries = 1 });
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Contains(server.BaseUrl, ex.Message);
        Assert.True(ex.Attempts <= 2);
    }

    [Fact]
    public void ASlowAnswerTimesOut()
    {
        using var server = new FaultyHttpServer(_ => Fault.Score("3", byteDelay: TimeSpan.FromMilliseconds(30)));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { Timeout = TimeSpan.FromMilliseconds(300), MaxRetries = 1 });
        var sw = Stopwatch.StartNew();
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(LlmJudgeFailure.Timeout, ex.Failure);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
    }

    [Fact]
    public void TheCallBudgetBoundsRetriesAndWaits()
    {
        using var server = new FaultyHttpServer(_ => Fault.Http(503, "{}"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with
        {
            MaxRetries = 1000, InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(100),
            CallBudget = TimeSpan.FromMilliseconds(500),
        });
        var sw = Stopwatch.StartNew();
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(LlmJudgeFailure.BudgetExhausted, ex.Failure);
        Assert.Contains("call's budget of 0.5 s", ex.Message);
        // The last cause is named: HTTP 503, or a timeout when the last attempt got only the budget's remainder.
        Assert.Contains("last failure: ", ex.Message);
        Assert.IsType<LlmJudgeException>(ex.InnerException);
        Assert.InRange(server.Requests, 2, 20);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"took {sw.Elapsed}");
    }

    [Fact]
    public void TheRunRetryBudgetIsSharedByCallsAndTheJudgeRecovers()
    {
        bool down = true;
        using var server = new FaultyHttpServer(_ => Volatile.Read(ref down) ? Fault.Http(500, "{}") : Fault.Score("2"));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { MaxRetries = 5, RunRetryBudget = 3 });
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(LlmJudgeFailure.BudgetExhausted, ex.Failure);
        Assert.Contains("budget of 3 retries", ex.Message);
        Assert.Equal(4, server.Requests);              // first try and the 3 retries of the run budget
        Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(5, server.Requests);              // budget spent: one try, no retries
        Volatile.Write(ref down, false);
        Assert.Equal(2, judge.Score(Context()));       // the judge is not poisoned: a healthy server is used again
    }

    [Fact]
    public void TheRunTimeBudgetStopsFurtherRequests()
    {
        using var server = new FaultyHttpServer(_ => new Fault(Stall: true));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { Timeout = TimeSpan.FromMilliseconds(1000), MaxRetries = 0, RunTimeBudget = TimeSpan.FromMilliseconds(500) });
        // a 1 s stall (not 200 ms): on a loaded CI machine the server must have accepted the request before the client gives up
        Assert.Equal(LlmJudgeFailure.Timeout, Assert.Throws<LlmJudgeException>(() => judge.Score(Context())).Failure);
        var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(Context()));
        Assert.Equal(LlmJudgeFailure.BudgetExhausted, ex.Failure);
        Assert.Contains("time budget", ex.Message);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public void ARunThatLosesItsJudgeKeepsTheDataItSaved()
    {
        using var server = new FaultyHttpServer(n => n < 3 ? Fault.Score("4") : new Fault(Close: true));
        using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { MaxRetries = 1 });
        var env = new KinPizzaEnv(reward: judge);
        var policy = new RulePolicy();
        var rng = new DialogRng(5);
        string dir = Directory.CreateTempSubdirectory("nanombpo-judge-run-").FullName;
        string file = Path.Combine(dir, "rewards.json");
        var rewards = new List<double>();
        try
        {
            env.Reset(5);
            var ex = Assert.Throws<LlmJudgeException>(() =>
            {
                while (!env.Done)
                {
                    rewards.Add(env.Step(policy.Act(env, rng)).Reward);
                    AtomicFile.WriteAllText(file, JsonSerializer.Serialize(rewards));
                }
            });
            Assert.Equal(LlmJudgeFailure.Unreachable, ex.Failure);
            Assert.Equal([0.5, 0.5, 0.5], JsonSerializer.Deserialize<double[]>(File.ReadAllText(file))!);
            Assert.Empty(AtomicFile.LeftoverTemporaries(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void RandomRawAnswersGiveAScoreOrAJudgeError()
    {
        var genRaw = Gen.OneOf(
            Gen.Char.AlphaNumeric.Array[0, 80].Select(c => Encoding.UTF8.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {c.Length}\r\n\r\n{new string(c)}")),
            Gen.Select(Gen.Int[200, 599], Gen.Char.Array[0, 40], Gen.Char.Array[0, 40], (st, h, b) =>
                Encoding.UTF8.GetBytes($"HTTP/1.1 {st} X\r\nRetry-After: {new string(h)}\r\nContent-Length: {Encoding.UTF8.GetByteCount(b)}\r\n\r\n{new string(b)}")),
            Gen.Byte.Array[0, 200]);
        genRaw.Sample(raw =>
        {
            using var server = new FaultyHttpServer(_ => new Fault(raw));
            using var judge = new LlmJudgeReward(Options(server.BaseUrl) with { Timeout = TimeSpan.FromMilliseconds(500), MaxRetries = 1, MaxBackoff = TimeSpan.FromMilliseconds(20) });
            try { Assert.InRange(judge.Score(Context()), 1, 5); }
            catch (LlmJudgeException e) { Assert.Contains(server.BaseUrl, e.Message); }
        }, iter: 60, threads: 1);
    }
}
