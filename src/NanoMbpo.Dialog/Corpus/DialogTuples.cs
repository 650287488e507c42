// The paper's step 1, before embedding: a dialog becomes (history, seller response, customer's next utterance,
// reward) tuples, one per seller turn that the customer answered.
// Choices (documented here because the embedding and the world model depend on them):
//  - Consecutive utterances of one speaker are merged into one turn (texts joined by a space; real Taskmaster
//    dialogs have such runs, e.g. an assistant sending two messages). After merging, speakers alternate, so
//    "the seller's response followed by the customer's reply" is always a pair of neighbouring turns.
//  - History holds the last maxSeqLen merged turns before the seller's response, oldest first.
//  - Reward: the sum of the stored `reward` fields on the seller turn's utterances when any is present (rewards on
//    USER utterances are ignored: a reward belongs to the seller's action); otherwise the fallback reward model
//    (none: 0).
//  - A dialog that ends on the seller: the trailing seller turn yields a tuple (with an empty customer reply,
//    Done = true) only when it carries a stored reward, e.g. the success bonus or the hang-up penalty of our
//    corpus; a real Taskmaster closing line ("Enjoy your pizza!") has no reaction to learn from and is dropped.
//  - Done is true for the last tuple of a dialog when nothing follows its customer reply.
// Test: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.DialogTuple"
namespace NanoMbpo.Dialog.Corpus;

/// <summary>One training example for the world model and the reward model.</summary>
/// <param name="History">The last maxSeqLen (merged) utterances before the seller response, oldest first.</param>
/// <param name="SellerResponse">The seller's turn (the action).</param>
/// <param name="CustomerNext">The customer's reply (the next observation); empty when the dialog ended without one.</param>
/// <param name="Reward">The reward for the seller's turn.</param>
/// <param name="Done">The dialog ended with this turn.</param>
public sealed record DialogTuple(IReadOnlyList<string> History, string SellerResponse, string CustomerNext, double Reward,
    bool Done = false);

public static class DialogTupleExtractor
{
    /// <summary>Tuples of one dialog, in dialog order.</summary>
    /// <param name="maxSeqLen">How many turns of history to keep (>= 0).</param>
    /// <param name="fallback">Reward model for turns without a stored reward; null gives 0.</param>
    public static List<DialogTuple> Extract(TaskmasterDialog dialog, int maxSeqLen, IRewardModel? fallback = null)
    {
        ArgumentNullException.ThrowIfNull(dialog);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSeqLen);
        List<Turn> turns = Merge(dialog.Utterances);
        var tuples = new List<DialogTuple>();
        for (int i = 0; i < turns.Count; i++)
        {
            if (turns[i].Speaker != Speaker.Seller) continue;
            bool answered = i + 1 < turns.Count;
            if (!answered && turns[i].Reward is null) continue;
            string reply = answered ? turns[i + 1].Text : "";
            bool done = !answered || i + 2 == turns.Count;
            double reward = turns[i].Reward ?? Fallback(fallback, dialog, turns, i, reply, done);
            var history = new string[Math.Min(maxSeqLen, i)];
            for (int h = 0; h < history.Length; h++) history[h] = turns[i - history.Length + h].Text;
            tuples.Add(new DialogTuple(history, turns[i].Text, reply, reward, done));
        }
        return tuples;
    }

    /// <summary>Tuples of many dialogs, concatenated in order.</summary>
    public static List<DialogTuple> ExtractAll(IEnumerable<TaskmasterDialog> dialogs, int maxSeqLen, IRewardModel? fallback = null)
    {
        ArgumentNullException.ThrowIfNull(dialogs);
        var all = new List<DialogTuple>();
        foreach (TaskmasterDialog d in dialogs) all.AddRange(Extract(d, maxSeqLen, fallback));
        return all;
    }

    readonly record struct Turn(Speaker Speaker, string Text, double? Reward);

    static List<Turn> Merge(IReadOnlyList<TaskmasterUtterance> utterances)
    {
        var turns = new List<Turn>(utterances.Count);
        foreach (TaskmasterUtterance u in utterances)
        {
            double? reward = u.Speaker == Speaker.Seller ? u.Reward : null;
            if (turns.Count > 0 && turns[^1].Speaker == u.Speaker)
            {
                Turn last = turns[^1];
                string text = last.Text.Length == 0 ? u.Text : u.Text.Length == 0 ? last.Text : last.Text + " " + u.Text;
                double? sum = last.Reward is null && reward is null ? null : (last.Reward ?? 0) + (reward ?? 0);
                turns[^1] = new Turn(u.Speaker, text, sum);
            }
            else
            {
                turns.Add(new Turn(u.Speaker, u.Text, reward));
            }
        }
        return turns;
    }

    static double Fallback(IRewardModel? model, TaskmasterDialog dialog, List<Turn> turns, int seller, string reply, bool done)
    {
        if (model is null) return 0;
        var history = new Utterance[seller];
        for (int i = 0; i < seller; i++) history[i] = new Utterance(turns[i].Speaker, turns[i].Text);
        bool success = done && dialog.Outcome?.Success == true;
        bool hungUp = done && dialog.Outcome?.Hangup == true;
        return model.Reward(new RewardContext(history, turns[seller].Text, reply, done, success, hungUp));
    }
}
