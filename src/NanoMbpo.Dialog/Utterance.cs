// A dialog utterance and the seller/customer roles, shared by the simulator, the corpus and the rewards.
namespace NanoMbpo.Dialog;

/// <summary>Who speaks. Taskmaster-1 calls the customer USER and the seller ASSISTANT.</summary>
public enum Speaker { Customer, Seller }

/// <summary>One line of a dialog.</summary>
public sealed record Utterance(Speaker Speaker, string Text);
