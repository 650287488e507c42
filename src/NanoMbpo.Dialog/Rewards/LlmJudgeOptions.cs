// Settings and the error type of the LLM-judge reward (LlmJudgeReward.cs).
// Tested by tests/NanoMbpo.Tests/DialogIO/LlmJudgeRewardTests.cs against a fake local HTTP server:
//   dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO"
namespace NanoMbpo.Dialog.Rewards;

/// <summary>How to reach and use an OpenAI-compatible chat-completions endpoint as a satisfaction judge.</summary>
public sealed record LlmJudgeOptions
{
    /// <summary>
    /// Server root, e.g. <c>http://127.0.0.1:8080</c> (llama.cpp server) or <c>http://127.0.0.1:11434</c> (Ollama).
    /// Requests go to <c>{BaseUrl}/v1/chat/completions</c>; a trailing <c>/v1</c> or slash is accepted and not doubled.
    /// </summary>
    public required string BaseUrl { get; init; }

    /// <summary>The <c>model</c> field of the request (Ollama needs a pulled model name; llama.cpp ignores it).</summary>
    public required string Model { get; init; }

    /// <summary>Wall-clock limit of one attempt (connect + answer). An attempt that runs past it counts as a timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Extra attempts after the first on transient failures: timeouts, connection errors, HTTP 5xx and 429.
    /// Other HTTP statuses (400, 404 model not found, 401) fail at once: repeating them cannot help.
    /// </summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>Wait before the first retry; it doubles after each one, spread by <see cref="Jitter"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Cap on one backoff wait, also on a server's <c>Retry-After</c>.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Each backoff wait is scaled by a random factor in [1 - Jitter, 1 + Jitter] (0..1), so many
    /// clients retrying one server do not come back in lockstep. Timing only: scores do not depend on it.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>Wall-clock budget of one <see cref="LlmJudgeReward.Score"/> call, attempts and waits included; an
    /// attempt never runs past it, and a retry whose wait would exceed it is not made.</summary>
    public TimeSpan CallBudget { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries allowed over the judge's whole life (one run): once spent, the first failure of a call is final.</summary>
    public int RunRetryBudget { get; init; } = 100;

    /// <summary>Wall-clock budget over the judge's whole life (one run), or null for none; once spent every call
    /// fails at once with <see cref="LlmJudgeFailure.BudgetExhausted"/>.</summary>
    public TimeSpan? RunTimeBudget { get; init; }

    /// <summary>
    /// Extra attempts when the answer is not a single digit 1-5 (or the body is not a chat completion).
    /// Default 0: at temperature 0 the same prompt almost always gets the same answer again.
    /// </summary>
    public int GarbageRetries { get; init; } = 0;

    /// <summary>
    /// Maps the 1-5 satisfaction score to the reward. Default <see cref="Centered"/>: (score-3)/2, so 1 → -1,
    /// 3 → 0 and 5 → +1, the same scale as a per-turn task reward of order one.
    /// </summary>
    public Func<int, double> RewardMapping { get; init; } = Centered;

    /// <summary>How many utterances before the seller's turn the prompt shows (oldest dropped first).</summary>
    public int HistoryUtterances { get; init; } = 8;

    /// <summary>The <c>max_tokens</c> field: the answer is one digit, a few tokens leave room for a newline.</summary>
    public int MaxTokens { get; init; } = 2;

    /// <summary>The <c>seed</c> field (llama.cpp and Ollama honour it), for reproducible answers.</summary>
    public int Seed { get; init; } = 0;

    /// <summary>Optional bearer token, sent as <c>Authorization: Bearer ...</c> when set.</summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// Use the system proxy (HTTP_PROXY and friends). Off by default: llama.cpp and Ollama usually run on this
    /// machine, and a proxy set for the outside world must not swallow requests to 127.0.0.1.
    /// </summary>
    public bool UseProxy { get; init; }

    /// <summary>(score - 3) / 2: 1..5 onto -1..+1.</summary>
    public static double Centered(int score) => (score - 3) / 2.0;

    /// <summary>(score - 1) / 4: 1..5 onto 0..1.</summary>
    public static double UnitInterval(int score) => (score - 1) / 4.0;

    /// <summary>The full chat-completions URL derived from <see cref="BaseUrl"/>.</summary>
    public Uri CompletionsUri()
    {
        string b = BaseUrl.Trim().TrimEnd('/');
        if (b.EndsWith("/v1", StringComparison.OrdinalIgnoreCase)) b = b[..^3];
        return new Uri(b + "/v1/chat/completions");
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(BaseUrl)
            || !Uri.TryCreate(BaseUrl.Trim(), UriKind.Absolute, out Uri? u)
            || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"LlmJudgeOptions.BaseUrl: expected an absolute http(s) URL, got '{BaseUrl}'.");
        if (string.IsNullOrWhiteSpace(Model))
            throw new ArgumentException("LlmJudgeOptions.Model: expected a model name, got an empty string.");
        if (Timeout <= TimeSpan.Zero)
            throw new ArgumentException($"LlmJudgeOptions.Timeout: expected > 0, got {Timeout}.");
        if (MaxRetries < 0)
            throw new ArgumentException($"LlmJudgeOptions.MaxRetries: expected >= 0, got {MaxRetries}.");
        if (GarbageRetries < 0)
            throw new ArgumentException($"LlmJudgeOptions.GarbageRetries: expected >= 0, got {GarbageRetries}.");
        if (InitialBackoff < TimeSpan.Zero || MaxBackoff < TimeSpan.Zero)
            throw new ArgumentException("LlmJudgeOptions.InitialBackoff/MaxBackoff: expected >= 0.");
        if (!(Jitter >= 0 && Jitter <= 1))
            throw new ArgumentException($"LlmJudgeOptions.Jitter: expected 0..1, got {Jitter}.");
        if (CallBudget <= TimeSpan.Zero || RunTimeBudget <= TimeSpan.Zero)
            throw new ArgumentException("LlmJudgeOptions.CallBudget/RunTimeBudget: expected > 0.");
        if (RunRetryBudget < 0)
            throw new ArgumentException($"LlmJudgeOptions.RunRetryBudget: expected >= 0, got {RunRetryBudget}.");
        if (HistoryUtterances < 0)
            throw new ArgumentException($"LlmJudgeOptions.HistoryUtterances: expected >= 0, got {HistoryUtterances}.");
        if (MaxTokens < 1)
            throw new ArgumentException($"LlmJudgeOptions.MaxTokens: expected >= 1, got {MaxTokens}.");
        ArgumentNullException.ThrowIfNull(RewardMapping, "LlmJudgeOptions.RewardMapping");
    }
}

/// <summary>What went wrong with the judge endpoint.</summary>
public enum LlmJudgeFailure
{
    /// <summary>No connection (refused, DNS, reset): the server is down or the URL is wrong.</summary>
    Unreachable,
    /// <summary>An attempt ran past <see cref="LlmJudgeOptions.Timeout"/>.</summary>
    Timeout,
    /// <summary>The server answered with a non-success HTTP status.</summary>
    HttpStatus,
    /// <summary>The server answered, but not with a single digit 1-5 (or not with a chat completion at all).</summary>
    Garbage,
    /// <summary>The call's or the run's budget (time or retries) is spent; the message names the last cause.</summary>
    BudgetExhausted,
}

/// <summary>The judge could not produce a score; the message names the endpoint and the cause.</summary>
public sealed class LlmJudgeException : Exception
{
    public LlmJudgeException(Uri endpoint, LlmJudgeFailure failure, int attempts, string message,
        int? statusCode = null, string? answer = null, Exception? inner = null)
        : base(message, inner)
    {
        Endpoint = endpoint;
        Failure = failure;
        Attempts = attempts;
        StatusCode = statusCode;
        Answer = answer;
    }

    public Uri Endpoint { get; }
    public LlmJudgeFailure Failure { get; }
    /// <summary>Requests made, the failing one included.</summary>
    public int Attempts { get; }
    /// <summary>HTTP status of the last answer, when there was one.</summary>
    public int? StatusCode { get; }
    /// <summary>The model's raw answer (or body) for <see cref="LlmJudgeFailure.Garbage"/>.</summary>
    public string? Answer { get; }
}
