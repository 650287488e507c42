// The simulator's task reward in the ConvLab style: -1 per seller turn, +2L on success, -L on failure or hang-up
// (L = the turn limit). Tested by tests/NanoMbpo.Tests/Dialog/EnvTests.cs.
namespace NanoMbpo.Dialog;

public sealed class TaskReward : IRewardModel
{
    public int MaxTurns { get; }
    public TaskReward(int maxTurns = 20) { MaxTurns = maxTurns; }

    public string Name => "task";

    public double Reward(RewardContext context)
    {
        double r = -1.0;
        if (context.Done) r += context.Success ? 2.0 * MaxTurns : -MaxTurns;
        return r;
    }
}
