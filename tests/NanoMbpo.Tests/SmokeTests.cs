// Smoke test: the solution builds and the trainer's command list is not empty.
using Xunit;

namespace NanoMbpo.Tests;

public class SmokeTests
{
    [Fact]
    public void TrainerListsCommands() => Assert.NotEmpty(NanoMbpo.Trainer.Commands.CommandList.All());
}
