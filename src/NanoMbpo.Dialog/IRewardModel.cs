// The pluggable reward interface: the agent sees only a number per turn and never which model gave it.
// Implementations: the simulator's task reward (ConvLab style) and an LLM judge over HTTP.
namespace NanoMbpo.Dialog;

/// <summary>What a reward model may look at after one seller turn.</summary>
/// <param name="History">All utterances before the seller's turn, oldest first.</param>
/// <param name="SellerText">The seller's response this turn.</param>
/// <param name="CustomerReply">The customer's reply to it (empty when the customer hung up silently).</param>
/// <param name="Done">The dialog ended on this turn.</param>
/// <param name="Success">The order was placed and matches the customer's goal (known to the simulator only).</param>
/// <param name="HungUp">The customer ran out of patience.</param>
public sealed record RewardContext(
    IReadOnlyList<Utterance> History,
    string SellerText,
    string CustomerReply,
    bool Done,
    bool Success,
    bool HungUp);

/// <summary>A per-turn reward. Implementations must be deterministic for a fixed input where they can.</summary>
public interface IRewardModel
{
    string Name { get; }
    double Reward(RewardContext context);
}
