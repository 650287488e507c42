// The paper's LLM reward: an LLM reads the recent dialog and the customer's reply and rates the customer's
// satisfaction 1-5; the score is mapped to a reward (LlmJudgeOptions.RewardMapping). Talks to any
// OpenAI-compatible chat-completions endpoint (llama.cpp server, Ollama) with System.Net.Http only.
// Determinism: temperature 0 and a fixed seed. Faults: bounded retries with doubling backoff and jitter, a per-call
// and a per-run budget (LlmJudgeOptions); tests/NanoMbpo.Tests/Reliability/LlmJudgeFaultTests.cs runs it against a
// server that stalls, drops connections, answers 5xx/429 with Retry-After, garbage and slowly.
// Test: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.LlmJudge"
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NanoMbpo.Dialog.Rewards;

/// <summary>An <see cref="IRewardModel"/> backed by an LLM over HTTP. Thread-safe; dispose to free the connection pool.</summary>
public sealed class LlmJudgeReward : IRewardModel, IDisposable
{
    internal const string SystemPrompt =
        "You judge customer satisfaction in a phone conversation between a customer and the seller of a pizza shop. " +
        "Read the conversation and the customer's latest reply, then rate how satisfied the customer is with the " +
        "seller's last turn, from 1 (very dissatisfied) to 5 (very satisfied). " +
        "Answer with a single digit from 1 to 5 and nothing else.";

    const int MaxQuotedChars = 200;
    readonly LlmJudgeOptions _options;
    readonly Uri _endpoint;
    readonly HttpClient _http;
    long _runRetries, _runTicks; // spent over this judge's life: retries made, wall-clock in Score

    public LlmJudgeReward(LlmJudgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _endpoint = options.CompletionsUri();
        var handler = new SocketsHttpHandler
        {
            UseProxy = options.UseProxy,
            ConnectTimeout = options.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        // The per-attempt limit is enforced by a CancellationTokenSource, so the client itself never times out.
        _http = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = 1 << 20,
        };
    }

    public string Name => "llm-judge:" + _options.Model;

    public LlmJudgeOptions Options => _options;

    public Uri Endpoint => _endpoint;

    /// <summary>The mapped reward of <see cref="Score"/>. Throws <see cref="LlmJudgeException"/> when no score can be had.</summary>
    public double Reward(RewardContext context) => _options.RewardMapping(Score(context));

    /// <summary>
    /// The customer's satisfaction 1-5 as the judge sees it. Retries transient failures and garbage answers as
    /// configured, then throws <see cref="LlmJudgeException"/> naming the endpoint and the cause.
    /// </summary>
    public int Score(RewardContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_options.RunTimeBudget is { } runBudget && TimeSpan.FromTicks(Interlocked.Read(ref _runTicks)) >= runBudget)
            throw Fail(LlmJudgeFailure.BudgetExhausted, 0, $"LLM judge at {_endpoint}: the run's time budget of {Seconds(runBudget)} s is spent; no further requests are made.");
        byte[] body = BuildRequestBody(context);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            int attempts = 0, transientLeft = _options.MaxRetries, garbageLeft = _options.GarbageRetries;
            TimeSpan backoff = _options.InitialBackoff;
            while (true)
            {
                attempts++;
                TimeSpan left = _options.CallBudget - clock.Elapsed;
                AttemptResult r = Attempt(body, attempts, left < _options.Timeout ? left : _options.Timeout, cancellationToken);
                if (r.Error is null) return r.Score;
                bool retry = r.Error.Failure == LlmJudgeFailure.Garbage ? garbageLeft-- > 0 : r.Transient && transientLeft-- > 0;
                if (!retry) throw r.Error;
                if (Interlocked.Increment(ref _runRetries) > _options.RunRetryBudget)
                    throw Fail(LlmJudgeFailure.BudgetExhausted, attempts, $"LLM judge at {_endpoint}: the run's budget of {_options.RunRetryBudget} retries is spent; last failure: {r.Error.Message}", inner: r.Error);
                TimeSpan wait = TimeSpan.Zero;
                if (r.Error.Failure != LlmJudgeFailure.Garbage) // garbage is not load: no need to back off
                {
                    wait = r.RetryAfter is { } ra && ra > backoff ? ra : backoff;
                    if (wait > _options.MaxBackoff) wait = _options.MaxBackoff;
                    wait *= 1 + _options.Jitter * (2 * Random.Shared.NextDouble() - 1);
                    backoff = backoff * 2 > _options.MaxBackoff ? _options.MaxBackoff : backoff * 2;
                }
                if (clock.Elapsed + wait >= _options.CallBudget)
                    throw Fail(LlmJudgeFailure.BudgetExhausted, attempts, $"LLM judge at {_endpoint}: the call's budget of {Seconds(_options.CallBudget)} s is spent after {attempts} attempt(s); last failure: {r.Error.Message}", inner: r.Error);
                if (wait > TimeSpan.Zero && cancellationToken.WaitHandle.WaitOne(wait))
                    cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally { Interlocked.Add(ref _runTicks, clock.Elapsed.Ticks); }
    }

    static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    readonly record struct AttemptResult(int Score, LlmJudgeException? Error, bool Transient, TimeSpan? RetryAfter);

    AttemptResult Attempt(byte[] body, int attempt, TimeSpan limit, CancellationToken cancellationToken)
    {
        if (limit <= TimeSpan.Zero) limit = TimeSpan.FromMilliseconds(1);
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (!string.IsNullOrEmpty(_options.ApiKey))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);

        // The async calls abort the connection when the token fires, so the timeout covers reading a body that
        // drips in slowly (sync Send was seen reading such a body to its end, 5.4 s past a 0.3 s limit). The
        // limit itself is a timed kernel wait, not CancelAfter: the token's timer and the I/O completions run on
        // the thread pool, and a starved pool (a loaded 2-core CI machine) let a 0.5 s call budget run 6.6 s.
        Task<(HttpResponseMessage Response, string Text)> work = SendAndReadAsync(request, timeout.Token);
        bool finished;
        try { finished = work.Wait(limit, cancellationToken); }
        catch (Exception ex) when (ex is not OperationCanceledException) { finished = true; }
        catch (OperationCanceledException) { Abandon(work, timeout, request); throw; }
        if (!finished)
        {
            Abandon(work, timeout, request);
            return new(0, Fail(LlmJudgeFailure.Timeout, attempt,
                $"LLM judge at {_endpoint} did not answer within {Seconds(limit)} s " +
                $"(attempt {attempt} of at most {1 + _options.MaxRetries})."), true, null);
        }
        timeout.Dispose();
        request.Dispose();

        HttpResponseMessage response;
        string text;
        try { (response, text) = work.GetAwaiter().GetResult(); }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(0, Fail(LlmJudgeFailure.Timeout, attempt,
                $"LLM judge at {_endpoint} did not answer within {Seconds(limit)} s " +
                $"(attempt {attempt} of at most {1 + _options.MaxRetries})."), true, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            string why = ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message;
            return new(0, Fail(LlmJudgeFailure.Unreachable, attempt,
                $"LLM judge at {_endpoint} is unreachable after {attempt} attempt(s): {why}. " +
                "Is the server (llama.cpp server, Ollama) running at that address?", inner: ex), true, null);
        }

        using (response)
        {
            int code = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                bool transient = code >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests;
                TimeSpan? retryAfter = response.Headers.RetryAfter switch
                {
                    { Delta: { } d } => d,
                    { Date: { } at } => at - DateTimeOffset.UtcNow,
                    _ => null,
                };
                return new(0, Fail(LlmJudgeFailure.HttpStatus, attempt,
                    $"LLM judge at {_endpoint} answered HTTP {code} {response.ReasonPhrase} after {attempt} attempt(s): " +
                    $"\"{Quote(text)}\"", code, text), transient, retryAfter);
            }

            string? content = ExtractContent(text);
            if (content is null)
                return new(0, Fail(LlmJudgeFailure.Garbage, attempt,
                    $"LLM judge at {_endpoint} answered garbage: the body is not a chat completion with " +
                    $"choices[0].message.content, got \"{Quote(text)}\" ({attempt} attempt(s)).", code, text), false, null);
            int? score = ParseScore(content);
            if (score is null)
                return new(0, Fail(LlmJudgeFailure.Garbage, attempt,
                    $"LLM judge at {_endpoint} answered garbage: expected a single digit 1-5, got \"{Quote(content)}\" " +
                    $"(model '{_options.Model}', {attempt} attempt(s)).", code, content), false, null);
            return new(score.Value, null, false, null);
        }
    }

    async Task<(HttpResponseMessage Response, string Text)> SendAndReadAsync(HttpRequestMessage request, CancellationToken token)
    {
        HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
        try { return (response, await response.Content.ReadAsStringAsync(token).ConfigureAwait(false)); }
        catch { response.Dispose(); throw; }
    }

    /// <summary>Cancels an attempt that ran past its limit; its resources are freed when it has unwound.</summary>
    static void Abandon(Task<(HttpResponseMessage Response, string Text)> work, CancellationTokenSource timeout, HttpRequestMessage request)
    {
        timeout.Cancel();
        // let the cancelled request unwind (its connection is dropped) before the next attempt, but never wait long:
        // on a starved pool it may not finish for seconds, and the call's budget must hold
        try { work.Wait(TimeSpan.FromMilliseconds(200)); } catch (Exception) { }
        work.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully) t.Result.Response.Dispose();
            else _ = t.Exception; // observed: an abandoned attempt's error is already reported as a timeout
            request.Dispose();
            timeout.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    LlmJudgeException Fail(LlmJudgeFailure failure, int attempts, string message,
        int? statusCode = null, string? answer = null, Exception? inner = null) =>
        new(_endpoint, failure, attempts, message, statusCode, answer, inner);

    /// <summary>Exactly one digit 1-5 after trimming whitespace, else null. "4." or "Score: 4" are garbage on purpose.</summary>
    public static int? ParseScore(string? answer)
    {
        if (answer is null) return null;
        ReadOnlySpan<char> s = answer.AsSpan().Trim();
        return s.Length == 1 && s[0] >= '1' && s[0] <= '5' ? s[0] - '0' : null;
    }

    /// <summary>choices[0].message.content of a chat completion, or null when the body is not one.</summary>
    internal static string? ExtractContent(string body)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("choices", out JsonElement choices)
                && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                && choices[0].ValueKind == JsonValueKind.Object
                && choices[0].TryGetProperty("message", out JsonElement message)
                && message.ValueKind == JsonValueKind.Object
                && message.TryGetProperty("content", out JsonElement content)
                && content.ValueKind == JsonValueKind.String)
                return content.GetString();
            return null;
        }
        catch (Exception e) when (e is JsonException || (e is InvalidOperationException && e.Source?.StartsWith("System.Text.Json", StringComparison.Ordinal) == true))
        {
            return null; // not JSON, or a string that is not valid UTF-8 / Unicode
        }
    }

    /// <summary>The user message: the last <see cref="LlmJudgeOptions.HistoryUtterances"/> utterances, the seller's turn and the reply.</summary>
    public static string BuildPrompt(RewardContext context, int historyUtterances)
    {
        var sb = new StringBuilder();
        sb.Append("Conversation so far:\n");
        int start = Math.Max(0, context.History.Count - historyUtterances);
        if (start > 0) sb.Append("(earlier lines omitted)\n");
        for (int i = start; i < context.History.Count; i++)
            AppendLine(sb, context.History[i].Speaker, context.History[i].Text);
        AppendLine(sb, Speaker.Seller, context.SellerText);
        sb.Append("\nThe customer's reply to the seller's last turn:\n");
        AppendLine(sb, Speaker.Customer, string.IsNullOrWhiteSpace(context.CustomerReply)
            ? "(the customer hung up without a word)" : context.CustomerReply);
        sb.Append("\nHow satisfied is the customer? Answer with a single digit from 1 to 5.");
        return sb.ToString();
    }

    static void AppendLine(StringBuilder sb, Speaker speaker, string text) =>
        sb.Append(speaker == Speaker.Customer ? "Customer: " : "Seller: ").Append(text.ReplaceLineEndings(" ")).Append('\n');

    /// <summary>The JSON request body; field order is fixed so identical contexts give identical bytes.</summary>
    internal byte[] BuildRequestBody(RewardContext context)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("model", _options.Model);
            w.WriteStartArray("messages");
            WriteMessage(w, "system", SystemPrompt);
            WriteMessage(w, "user", BuildPrompt(context, _options.HistoryUtterances));
            w.WriteEndArray();
            w.WriteNumber("temperature", 0);
            w.WriteNumber("max_tokens", _options.MaxTokens);
            w.WriteNumber("seed", _options.Seed);
            w.WriteBoolean("stream", false);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    static void WriteMessage(Utf8JsonWriter w, string role, string content)
    {
        w.WriteStartObject();
        w.WriteString("role", role);
        w.WriteString("content", content);
        w.WriteEndObject();
    }

    /// <summary>One line, at most 200 characters, for quoting an answer in an error message.</summary>
    static string Quote(string s)
    {
        string oneLine = s.Replace("\r", "\\r").Replace("\n", "\\n");
        return oneLine.Length <= MaxQuotedChars ? oneLine : oneLine[..MaxQuotedChars] + "...";
    }

    public void Dispose() => _http.Dispose();
}
