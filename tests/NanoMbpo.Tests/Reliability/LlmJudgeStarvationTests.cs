// The LLM judge's time limits hold when the .NET thread pool is starved. Its async I/O completions and timers
// run on the pool; on a loaded 2-core CI machine a 0.5 s call budget once took 6.6 s. The judge now bounds each
// attempt with a timed kernel wait, so this test (which blocks every pool thread for the duration) fails on the
// old CancelAfter-only limit. Runs alone: starving the pool would slow every test beside it.
using System.Diagnostics;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Rewards;
using Xunit;

namespace NanoMbpo.Tests.Reliability;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadPoolStarvationCollection { public const string Name = "ThreadPoolStarvation"; }

[Collection(ThreadPoolStarvationCollection.Name)]
public sealed class LlmJudgeStarvationTests
{
    [Fact]
    public void TheCallBudgetHoldsWhenTheThreadPoolIsStarved()
    {
        using var server = new FaultyHttpServer(_ => Fault.Http(503, "{}"));
        using var judge = new LlmJudgeReward(new LlmJudgeOptions
        {
            BaseUrl = server.BaseUrl, Model = "starvation-test", Timeout = TimeSpan.FromSeconds(10), MaxRetries = 1000,
            InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(100),
            CallBudget = TimeSpan.FromMilliseconds(500),
        });
        var context = new RewardContext(
            [new Utterance(Speaker.Seller, "What can I get you?"), new Utterance(Speaker.Customer, "a large pizza please")],
            "One large pizza, anything else?", "No, that's all, thanks!", Done: false, Success: false, HungUp: false);
        Assert.Throws<LlmJudgeException>(() => judge.Score(context)); // warm: connection pool, JIT

        var release = new ManualResetEventSlim(false); // not disposed: queued blockers may start after the test ends
        int blockers = ThreadPool.ThreadCount + 64, started = 0;
        try
        {
            for (int i = 0; i < blockers; i++)
                ThreadPool.UnsafeQueueUserWorkItem(_ => { Interlocked.Increment(ref started); release.Wait(TimeSpan.FromSeconds(30)); }, null);
            var until = Stopwatch.StartNew();
            while (Volatile.Read(ref started) < ThreadPool.ThreadCount && until.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(5);

            var sw = Stopwatch.StartNew();
            var ex = Assert.Throws<LlmJudgeException>(() => judge.Score(context));
            sw.Stop();
            Assert.Equal(LlmJudgeFailure.BudgetExhausted, ex.Failure);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"a 0.5 s call budget took {sw.Elapsed} with the thread pool starved");
        }
        finally { release.Set(); }
    }
}
