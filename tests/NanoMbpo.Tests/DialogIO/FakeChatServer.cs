// A tiny HTTP/1.1 server on 127.0.0.1 (raw TcpListener on port 0, so tests never collide on ports and need no
// URL ACLs) that plays an OpenAI-compatible chat-completions endpoint for the LLM-judge tests.
// Each connection serves one request and closes; the accept loop is bounded and stops on Dispose.
// Dedicated threads and blocking IO on purpose: the judge under test blocks a pool thread in HttpClient.Send, and
// with xunit running classes in parallel on 2 cores an async server would wait for thread-pool injection (~1 s).
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace NanoMbpo.Tests.DialogIO;

/// <summary>What the fake server does with one request.</summary>
internal sealed record FakeReply(int Status, string Body, TimeSpan Delay = default, bool Drop = false, string? RetryAfter = null)
{
    /// <summary>A 200 chat completion whose message content is <paramref name="content"/>.</summary>
    public static FakeReply Chat(string content) => new(200, ChatBody(content));

    public static string ChatBody(string content) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-test",
        @object = "chat.completion",
        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
    });
}

/// <summary>One recorded request: the request line and the body.</summary>
internal sealed record FakeRequest(string RequestLine, string Body);

internal sealed class FakeChatServer : IDisposable
{
    readonly TcpListener _listener;
    readonly CancellationTokenSource _cts = new();
    readonly Func<int, FakeRequest, FakeReply> _handler;
    readonly Thread _loop;
    readonly ConcurrentQueue<FakeRequest> _requests = new();
    readonly ConcurrentBag<Thread> _serving = new();
    readonly int _maxRequests;

    /// <param name="handler">Called with the 0-based request number and the request.</param>
    /// <param name="maxRequests">The accept loop ends after this many connections, so a runaway client cannot spin it.</param>
    public FakeChatServer(Func<int, FakeRequest, FakeReply> handler, int maxRequests = 16)
    {
        _handler = handler;
        _maxRequests = maxRequests;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = new Thread(AcceptLoop) { IsBackground = true, Name = "FakeChatServer accept" };
        _loop.Start();
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public IReadOnlyList<FakeRequest> Requests => _requests.ToArray();

    /// <summary>A port nobody listens on (bound, read, released), for "endpoint down" tests.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    void AcceptLoop()
    {
        for (int n = 0; n < _maxRequests && !_cts.IsCancellationRequested; n++)
        {
            TcpClient client;
            try { client = _listener.AcceptTcpClient(); }
            catch (Exception) { return; } // stopped
            int number = n;
            var t = new Thread(() => Serve(client, number)) { IsBackground = true, Name = $"FakeChatServer #{number}" };
            _serving.Add(t);
            t.Start();
        }
    }

    void Serve(TcpClient client, int number)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                stream.ReadTimeout = 5000;
                FakeRequest request = ReadRequest(stream);
                _requests.Enqueue(request);
                FakeReply reply = _handler(number, request);
                if (reply.Delay > TimeSpan.Zero && _cts.Token.WaitHandle.WaitOne(reply.Delay)) return; // stopping
                if (reply.Drop) return;
                byte[] body = Encoding.UTF8.GetBytes(reply.Body);
                string head = $"HTTP/1.1 {reply.Status} {Reason(reply.Status)}\r\nContent-Type: application/json\r\n" +
                              $"Content-Length: {body.Length}\r\nConnection: close\r\n" +
                              (reply.RetryAfter is null ? "" : $"Retry-After: {reply.RetryAfter}\r\n") + "\r\n";
                stream.Write(Encoding.ASCII.GetBytes(head));
                stream.Write(body);
                stream.Flush();
            }
            catch (Exception) { /* client went away or the server is stopping */ }
        }
    }

    static FakeRequest ReadRequest(NetworkStream stream)
    {
        var buffer = new List<byte>(4096);
        var chunk = new byte[4096];
        int headerEnd = -1;
        while (headerEnd < 0)
        {
            int read = stream.Read(chunk);
            if (read == 0) throw new IOException("connection closed before the request head ended");
            buffer.AddRange(chunk.AsSpan(0, read).ToArray());
            headerEnd = IndexOf(buffer, "\r\n\r\n"u8);
            if (buffer.Count > 1 << 20) throw new IOException("request head too large");
        }
        string head = Encoding.ASCII.GetString(buffer.GetRange(0, headerEnd).ToArray());
        string[] lines = head.Split("\r\n");
        int length = 0;
        foreach (string line in lines)
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                length = int.Parse(line["Content-Length:".Length..].Trim());
        int bodyStart = headerEnd + 4;
        while (buffer.Count - bodyStart < length)
        {
            int read = stream.Read(chunk);
            if (read == 0) throw new IOException("connection closed inside the request body");
            buffer.AddRange(chunk.AsSpan(0, read).ToArray());
        }
        return new FakeRequest(lines[0], Encoding.UTF8.GetString(buffer.GetRange(bodyStart, length).ToArray()));
    }

    static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Count; i++)
        {
            int k = 0;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return i;
        }
        return -1;
    }

    static string Reason(int status) => status switch
    {
        200 => "OK", 404 => "Not Found", 429 => "Too Many Requests", 500 => "Internal Server Error",
        503 => "Service Unavailable", _ => "Status",
    };

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Stop();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        foreach (Thread t in _serving.Append(_loop))
            t.Join(Max(TimeSpan.Zero, deadline - DateTime.UtcNow));
        _cts.Dispose();
    }
}
