// The one atomic writer for every file the project writes (checkpoints and other safetensors files, corpus
// files, summaries, plots, PTX): the content goes to a temporary file in the same folder, is flushed and
// fsynced, then renamed over the target (rename(2) replaces atomically on one file system), and on Linux the
// folder is fsynced so the rename itself survives a power cut. A reader therefore sees the old file or the new
// one, never a torn one. Tested by tests/NanoMbpo.Tests/Reliability/AtomicWriteKillTests.cs, which kills child
// processes at random points of saves in a loop and reloads what remains.
using System.Runtime.InteropServices;
using System.Text;

namespace NanoMbpo.IO;

public static partial class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with <paramref name="write"/>; creates the folder when
    /// <paramref name="createDirectory"/>, else a missing folder is an error naming it.</summary>
    public static void Write(string path, Action<Stream> write, bool createDirectory = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' names no file inside a folder", nameof(path));
        if (createDirectory) Directory.CreateDirectory(dir);
        else if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"cannot save '{path}': folder '{dir}' does not exist");
        // Same folder, so the rename stays on one file system; the process id and a GUID keep writers apart.
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        SyncDirectory(dir);
    }

    /// <summary>Writes UTF-8 text (no byte-order mark) atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { var b = new UTF8Encoding(false).GetBytes(text); s.Write(b, 0, b.Length); });

    /// <summary>Writes bytes atomically.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes, 0, bytes.Length));

    /// <summary>Temporary files this writer left behind in <paramref name="dir"/> (a process killed mid-save).</summary>
    public static string[] LeftoverTemporaries(string dir) =>
        Directory.Exists(dir) ? Directory.GetFiles(dir, ".*.tmp") : [];

    static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux()) return; // elsewhere the rename is as durable as the platform makes it
        int fd = Open(dir, 0 /* O_RDONLY */);
        if (fd < 0) return; // best effort: the data itself is already on disk
        try { _ = Fsync(fd); } finally { _ = Close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
