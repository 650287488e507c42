// The trainer's sub-commands, in the order `--help` lists them. Add one line per command.
using System.CommandLine;

namespace NanoMbpo.Trainer.Commands;

public static class CommandList
{
    public static IEnumerable<Command> All()
    {
        yield return VersionCommand.Create();
        yield return TrainCommand.Create();
        yield return TrackCommand.Create();
        yield return EvalCommand.Create();
        yield return CompareCommand.Create();
        yield return CorpusCommand.Create();
        yield return GradcheckCommand.Create();
        yield return ParityCommand.Create();
        yield return BenchCommand.Create();
        yield return RlCommand.Create();
        yield return PtxCommand.Create();
        yield return ConvertBertCommand.Create();
        yield return EncodeCommand.Create();
        yield return ExtractCommand.Create();
        yield return ReplyModelCommand.Create();
        yield return FuzzCommand.Create();
    }
}
