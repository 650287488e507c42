// The optional warm start of the seller agent from a corpus (`nanombpo train --warm-start CORPUS`): every
// seller turn of a Taskmaster-format corpus (`nanombpo corpus` writes one: the rule expert with exploration
// noise) becomes a real-buffer tuple (history window, the action the behaviour policy took, reward, next
// window, done), and the world model is fitted on them before the first online dialog. The action is the
// catalog entry whose template renders to the logged seller text (SellerActions.Identify), i.e. the behaviour
// policy's own action, never an expert relabel. The reward is recomputed by the run's own reward model from
// the logged texts and the dialog's logged outcome, so corpus and online turns carry the same reward.
// Corpus dialogs are counted apart from the budget of online dialogs. Tested by
// tests/NanoMbpo.Agent.Tests/WarmStartTests.cs.
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Corpus;

namespace NanoMbpo.Agent;

/// <summary>What a warm start put into the buffers.</summary>
public sealed record WarmStartStats(int Dialogs, int Turns, double Success);

public static class WarmStart
{
    /// <summary>Seller turns of a corpus (for sizing the real buffer before the agent is built).</summary>
    public static int CountTurns(IReadOnlyList<TaskmasterDialog> corpus) =>
        corpus.Sum(d => d.Utterances.Skip(1).Count(u => u.Speaker == Speaker.Seller));

    /// <summary>Adds every seller turn of <paramref name="corpus"/> (read from <paramref name="source"/>) to the
    /// agent's real buffer with rewards from <paramref name="reward"/>, then fits the normaliser and the world
    /// model on them. Throws naming the file, dialog and turn when a seller text is not a catalog response.</summary>
    public static WarmStartStats Load(SellerMbpo agent, IReadOnlyList<TaskmasterDialog> corpus, IRewardModel reward, string source)
    {
        int L = agent.Learner.L, turns = 0, successes = 0;
        var w = new int[L]; var w2 = new int[L];
        for (int di = 0; di < corpus.Count; di++)
        {
            var d = corpus[di];
            var u = d.Utterances;
            if (u.Count < 2 || u[0].Speaker != Speaker.Seller || u[1].Speaker != Speaker.Customer)
                throw new InvalidDataException($"{source}: dialog {di} ({d.ConversationId}): expected the seller's greeting then the customer's opening line, as the simulator starts a dialog");
            if (d.Outcome is null)
                throw new InvalidDataException($"{source}: dialog {di} ({d.ConversationId}): field 'outcome' is missing (the warm start needs each dialog's success or hang-up for the final reward)");
            bool success = d.Outcome.Success;
            if (success) successes++;
            var history = new List<Utterance> { new(u[0].Speaker, u[0].Text), new(u[1].Speaker, u[1].Text) };
            for (int i = 2; i < u.Count; i++)
            {
                if (u[i].Speaker != Speaker.Seller)
                    throw new InvalidDataException($"{source}: dialog {di} ({d.ConversationId}), utterance {i}: expected a seller turn (the simulator alternates seller and customer)");
                int a = SellerActions.Identify(u[i].Text);
                if (a < 0) throw new InvalidDataException($"{source}: dialog {di} ({d.ConversationId}), utterance {i}: '{u[i].Text}' is not a response of the seller's action catalog");
                bool answered = i + 1 < u.Count && u[i + 1].Speaker == Speaker.Customer;
                string reply = answered ? u[i + 1].Text : "";
                bool done = i + (answered ? 2 : 1) >= u.Count;
                agent.Table.Window(history, w);
                double r = reward.Reward(new RewardContext(history.ToArray(), u[i].Text, reply, done, done && success, done && d.Outcome.Hangup));
                history.Add(new Utterance(Speaker.Seller, u[i].Text));
                if (answered) history.Add(new Utterance(Speaker.Customer, reply));
                agent.Table.Window(history, w2);
                agent.Real.Add(w, a, r, w2, done);
                turns++;
                if (answered) i++;
            }
        }
        agent.AfterWarmStart(corpus.Count);
        return new WarmStartStats(corpus.Count, turns, corpus.Count == 0 ? 0 : (double)successes / corpus.Count);
    }
}
