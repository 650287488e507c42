// Entry point of the test assembly (GenerateProgramFile is off): `dotnet NanoMbpo.Tests.dll save-loop KIND PATH`
// saves version 1, 2, 3, ... of a file of that kind through the project's own writers in an endless loop and
// prints "saved N" after each, so AtomicWriteKillTests can kill it at random points of a save. Under the test
// runner this Main is never called.
namespace NanoMbpo.Tests.Reliability;

public static class ChildMain
{
    public static int Main(string[] args)
    {
        if (args.Length != 3 || args[0] != "save-loop")
        {
            Console.Error.WriteLine("usage: NanoMbpo.Tests save-loop safetensors|checkpoint|corpus|text PATH");
            return 2;
        }
        for (int version = 1; ; version++)
        {
            SavedVersions.Save(args[1], args[2], version);
            Console.Out.WriteLine($"saved {version}");
            Console.Out.Flush();
        }
    }
}
