// A raw-TCP HTTP server on 127.0.0.1 for the LLM-judge fault tests: per request it stalls (never answers),
// closes the connection, resets it, or writes raw bytes (a proper response, garbage, a truncated one) at a
// chosen speed, so "slowly" means a byte at a time. Dedicated threads with blocking IO (as FakeChatServer).
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NanoMbpo.Tests.Reliability;

/// <summary>What the server does with one request.</summary>
public sealed record Fault(byte[]? Raw = null, bool Stall = false, bool Close = false, bool Reset = false, TimeSpan ByteDelay = default)
{
    public static Fault Http(int status, string body, string? extraHeaders = null, TimeSpan byteDelay = default) =>
        new(Encoding.UTF8.GetBytes($"HTTP/1.1 {status} Status\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n" +
            $"Connection: close\r\n{extraHeaders}\r\n{body}"), ByteDelay: byteDelay);

    public static Fault Score(string content, TimeSpan byteDelay = default) =>
        Http(200, "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + content + "\"}}]}", byteDelay: byteDelay);
}

public sealed class FaultyHttpServer : IDisposable
{
    readonly TcpListener _listener;
    readonly CancellationTokenSource _stop = new();
    readonly Func<int, Fault> _plan;
    readonly ConcurrentBag<Thread> _threads = new();
    int _requests;

    public FaultyHttpServer(Func<int, Fault> plan)
    {
        _plan = plan;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        Spawn(AcceptLoop);
    }

    public string BaseUrl { get; }
    /// <summary>Requests received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    void Spawn(Action a)
    {
        var t = new Thread(() => a()) { IsBackground = true };
        t.Start();
        _threads.Add(t);   // after Start: Dispose on another thread must never Join a thread not yet started
    }

    void AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient c;
            try { c = _listener.AcceptTcpClient(); } catch (Exception) { return; }
            Spawn(() => Serve(c));
        }
    }

    void Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var s = client.GetStream();
                s.ReadTimeout = 5000;
                ReadRequest(s);
                var f = _plan(Interlocked.Increment(ref _requests) - 1);
                if (f.Stall) { _stop.Token.WaitHandle.WaitOne(); return; }
                if (f.Reset) { client.LingerState = new LingerOption(true, 0); return; }
                if (f.Close || f.Raw is null) return;
                if (f.ByteDelay <= TimeSpan.Zero) { s.Write(f.Raw); s.Flush(); return; }
                foreach (byte b in f.Raw)
                {
                    if (_stop.Token.WaitHandle.WaitOne(f.ByteDelay)) return;
                    s.WriteByte(b);
                }
            }
            catch (Exception) { /* client gone or stopping */ }
        }
    }

    static void ReadRequest(NetworkStream s)
    {
        var buf = new List<byte>();
        var chunk = new byte[4096];
        int length = -1, headEnd = -1;
        while (true)
        {
            int n = s.Read(chunk);
            if (n == 0) return;
            buf.AddRange(chunk.AsSpan(0, n).ToArray());
            if (headEnd < 0)
            {
                string text = Encoding.ASCII.GetString(buf.ToArray());
                headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (headEnd < 0) continue;
                foreach (var line in text[..headEnd].Split("\r\n"))
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
            }
            if (buf.Count - headEnd - 4 >= Math.Max(length, 0)) return;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var t in _threads) t.Join(TimeSpan.FromSeconds(2));
    }
}
