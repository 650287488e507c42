// The learned reply reward ("reply-model"): a small classifier over the BERT embeddings of the customer's
// reply e(r), of the seller's turn it answers e(s) and of the customer's previous utterance e(p) (never the
// simulator's hidden label): features [e(r), e(r) − e(p), e(s), cos(e(r), e(p))] (3H+1; e("") = 0 and cos 0
// when there is none), MLP 3H+1 -> Hidden (GELU) -> 3 classes {-1, 0, +1},
// all parameters in one ParameterStore. The context is what an LLM judge reading the dialog has too: "The usual
// crust is fine." answering "Which crust?" for the next pizza is progress, the same words after "Sorry, could
// you repeat that?" are a restatement. On the reply text alone (format v1) such repeats scored as progress, and
// agents learned to ask for repeats again and again for reward until the customer hung up. As an IRewardModel it gives the task reward (TaskReward, same turn
// limit) plus ReplyWeight x (p(+1) - p(-1)). Score() rates a batch of replies at once (one embedding call,
// one forward pass). Saved as a directory: reply_model.safetensors (the MLP) + reply_model.json (the
// config, the BERT checkpoint's sha256 and pooling it was trained on, and the measured accuracy); loading
// checks keys, shapes, the embedding size and refuses another checkpoint or pooling naming the file.
// Trained by ReplyModelTrainer. Tested by tests/NanoMbpo.Bert.Tests/ReplyRewardModelTests.cs.
using System.Text.Json;
using System.Text.Json.Serialization;
using NanoMbpo.IO;
using NanoMbpo.NN;

namespace NanoMbpo.Dialog.Rewards;

/// <summary>What reply_model.json records. Classes are the satisfaction labels in logit order.</summary>
public sealed record ReplyModelConfig
{
    [JsonPropertyName("format")] public string Format { get; init; } = ReplyRewardModel.FormatName;
    [JsonPropertyName("embedding")] public int Embedding { get; init; }
    [JsonPropertyName("hidden")] public int Hidden { get; init; }
    [JsonPropertyName("classes")] public int[] Classes { get; init; } = [.. ReplyRewardModel.Classes];
    [JsonPropertyName("activation")] public string Activation { get; init; } = "gelu";
    [JsonPropertyName("bert_sha256")] public string BertSha256 { get; init; } = "";
    [JsonPropertyName("pooling")] public string Pooling { get; init; } = "";
    /// <summary>Held-out accuracy overall and per class (keys "-1", "0", "+1"), filled in by training.</summary>
    [JsonPropertyName("held_out_accuracy")] public double? HeldOutAccuracy { get; init; }
    [JsonPropertyName("held_out_per_class")] public Dictionary<string, double>? HeldOutPerClass { get; init; }
    [JsonPropertyName("held_out_replies")] public int? HeldOutReplies { get; init; }
    /// <summary>Held-out replies whose text never occurs in training.</summary>
    [JsonPropertyName("held_out_unseen_accuracy")] public double? HeldOutUnseenAccuracy { get; init; }
    [JsonPropertyName("held_out_unseen_replies")] public int? HeldOutUnseenReplies { get; init; }
    /// <summary>Accuracy on dialogs whose goals are real PIZZA orders (when measured).</summary>
    [JsonPropertyName("pizza_goals_accuracy")] public double? PizzaGoalsAccuracy { get; init; }
    [JsonPropertyName("pizza_goals_replies")] public int? PizzaGoalsReplies { get; init; }
    [JsonPropertyName("seed")] public ulong? Seed { get; init; }
    [JsonPropertyName("dialogs")] public int? Dialogs { get; init; }
    [JsonPropertyName("epochs")] public int? Epochs { get; init; }
    [JsonPropertyName("loss")] public string? Loss { get; init; }
    /// <summary>sha256 of the training recipe and data (ReplyModelTrainer.Fingerprint): a default model whose recipe
    /// the current simulator would not reproduce is retrained, so a checkout never trains its agent on the reward of
    /// an older simulator (it happened: a model kept from earlier code gave other runs than a fresh clone's).</summary>
    [JsonPropertyName("training_data_sha256")] public string? TrainingDataSha256 { get; init; }
}

public sealed class ReplyRewardModel : IRewardModel
{
    public const string WeightsFile = "reply_model.safetensors", ConfigFile = "reply_model.json", FormatName = "nanombpo-reply-model-v2";
    /// <summary>The satisfaction labels in logit order.</summary>
    public static readonly IReadOnlyList<int> Classes = [-1, 0, 1];
    /// <summary>Default weight of the reply term (see <see cref="ReplyWeight"/>).</summary>
    public const double DefaultReplyWeight = 1.0;

    readonly ITextEmbedder embedder;
    readonly TaskReward task;

    public ParameterStore Store { get; }
    public Mlp Net { get; }
    public ReplyModelConfig Config { get; private set; }
    /// <summary>Weight of the reply term in Reward: task reward + ReplyWeight x (p(+1) - p(-1)). Default 1.0:
    /// the reply term lies in [-1, 1], the size of the task reward's per-turn cost, so it can reorder turns
    /// of the same dialog but never outweighs the success bonus (2 x the turn limit). 0 gives the task reward.</summary>
    public double ReplyWeight { get; set; } = DefaultReplyWeight;
    public int MaxTurns => task.MaxTurns;
    public ITextEmbedder Embedder => embedder;
    public string Name => "reply-model";

    /// <summary>A fresh, untrained model (torch's Linear init from <paramref name="rng"/>, default Rng(1)) for the
    /// embedder's size; train one with ReplyModelTrainer.Train or load one with Load. Like the embedder's
    /// cache, a model is not safe to call from several threads at once.</summary>
    public ReplyRewardModel(ITextEmbedder embedder, int hidden = 64, Rng? rng = null, int maxTurns = 20)
        : this(embedder, new ReplyModelConfig
        {
            Embedding = embedder?.Hidden ?? 0, Hidden = hidden, BertSha256 = embedder?.CheckpointSha256 ?? "", Pooling = embedder?.Pooling ?? "",
        }, rng ?? new Rng(1), maxTurns) { }

    ReplyRewardModel(ITextEmbedder embedder, ReplyModelConfig config, Rng? rng, int maxTurns)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        if (config.Hidden < 1) throw new ArgumentOutOfRangeException(nameof(config), config.Hidden, "reply model: expected a positive hidden width");
        if (embedder.Hidden < 1) throw new ArgumentException($"reply model: the embedder reports {embedder.Hidden} features; expected a positive size", nameof(embedder));
        this.embedder = embedder;
        task = new TaskReward(maxTurns);
        Config = config;
        Store = new ParameterStore(DType.F32);
        Net = new Mlp(Store, "mlp.", [FeatureDim(embedder.Hidden), config.Hidden, Classes.Count], NN.Activation.Gelu, rng);
    }

    public double Reward(RewardContext context)
    {
        double r = task.Reward(context);
        return ReplyWeight == 0 ? r : r + ReplyWeight * Score([context.CustomerReply], [PreviousCustomerText(context.History)], [context.SellerText])[0];
    }

    /// <summary>The customer's last utterance in a history ("" when the customer has not spoken).</summary>
    public static string PreviousCustomerText(IReadOnlyList<Utterance> history)
    {
        for (int i = history.Count - 1; i >= 0; i--) if (history[i].Speaker == Speaker.Customer) return history[i].Text;
        return "";
    }

    /// <summary>Expected satisfaction p(+1) - p(-1) per reply, in [-1, 1], given the customer's previous utterance
    /// and the seller's turn for each (null: none for any): one embedding call and one forward pass.</summary>
    public double[] Score(IReadOnlyList<string> replies, IReadOnlyList<string>? previous = null, IReadOnlyList<string>? seller = null)
    {
        var p = Probabilities(replies, previous, seller);
        var s = new double[replies.Count];
        for (int i = 0; i < s.Length; i++) s[i] = (double)p[i * 3 + 2] - p[i * 3];
        return s;
    }

    /// <summary>Class probabilities (N, 3) flattened row-major, classes in <see cref="Classes"/> order.</summary>
    public float[] Probabilities(IReadOnlyList<string> replies, IReadOnlyList<string>? previous = null, IReadOnlyList<string>? seller = null)
    {
        ArgumentNullException.ThrowIfNull(replies);
        if (previous != null && previous.Count != replies.Count)
            throw new ArgumentException($"reply model: {previous.Count} previous utterances for {replies.Count} replies; expected one each", nameof(previous));
        if (seller != null && seller.Count != replies.Count)
            throw new ArgumentException($"reply model: {seller.Count} seller turns for {replies.Count} replies; expected one each", nameof(seller));
        if (replies.Count == 0) return [];
        using var _ = Autograd.NoGrad();
        return F.Softmax(Logits(Features(replies, previous, seller))).F32.ToArray();
    }

    /// <summary>Features per (reply, previous) pair for embeddings of size h.</summary>
    public static int FeatureDim(int h) => 3 * h + 1;

    /// <summary>The features of each (reply, previous, seller) triple as one (N, 3H+1) tensor.</summary>
    internal Tensor Features(IReadOnlyList<string> replies, IReadOnlyList<string>? previous, IReadOnlyList<string>? seller)
    {
        var distinct = replies.Concat(previous ?? []).Concat(seller ?? []).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var e = embedder.Embed(distinct);
        int h = embedder.Hidden;
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int i = 0; i < e.Length; i++)
        {
            if (e[i].Length != h) throw new InvalidOperationException($"reply model: the embedder gave {e[i].Length} features for text {i}; expected {h}");
            vectors[distinct[i]] = e[i];
        }
        int f = FeatureDim(h);
        var x = new float[replies.Count * f];
        float[]? V(IReadOnlyList<string>? texts, int i) => texts != null && texts[i].Length > 0 ? vectors[texts[i]] : null;
        for (int i = 0; i < replies.Count; i++) Pair(V(replies, i), V(previous, i), V(seller, i), x.AsSpan(i * f, f));
        return Tensor.FromArray(x, replies.Count, f);
    }

    /// <summary>Writes [r, r − p, s, cos(r, p)] (3H+1) for embeddings r, p, s (null = the empty text: zeros, cosine 0).
    /// The cosine makes "the customer said the same again" one feature instead of a pattern over 2H.</summary>
    internal static void Pair(float[]? reply, float[]? previous, float[]? seller, Span<float> into)
    {
        int h = (into.Length - 1) / 3;
        into.Clear();
        if (reply != null) { reply.CopyTo(into); reply.CopyTo(into[h..]); }
        if (previous != null) for (int k = 0; k < h; k++) into[h + k] -= previous[k];
        seller?.CopyTo(into[(2 * h)..]);
        if (reply != null && previous != null)
            into[3 * h] = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(reply.AsSpan(0, h), previous.AsSpan(0, h));
    }

    internal Tensor Logits(Tensor x) => Net.Forward(x);

    internal void SetConfig(ReplyModelConfig c) => Config = c;

    /// <summary>Writes reply_model.safetensors and reply_model.json into <paramref name="dir"/> (created), each atomically.</summary>
    public void Save(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        Directory.CreateDirectory(dir);
        Checkpoint.Save(Store, Path.Combine(dir, WeightsFile), new Dictionary<string, string>
        {
            ["format"] = FormatName, ["bert_sha256"] = Config.BertSha256, ["pooling"] = Config.Pooling,
        });
        AtomicFile.WriteAllText(Path.Combine(dir, ConfigFile), JsonSerializer.Serialize(Config, JsonOptions) + "\n");
    }

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,   // "+1", not "\u002B1"
    };

    /// <summary>Loads a saved model for <paramref name="embedder"/>; refuses a model trained on another BERT
    /// checkpoint or pooling, a config that does not describe this network, and a damaged or mismatched weights file.</summary>
    public static ReplyRewardModel Load(string dir, ITextEmbedder embedder, int maxTurns = 20)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        string cfgPath = Path.Combine(dir, ConfigFile), wPath = Path.Combine(dir, WeightsFile);
        if (!File.Exists(cfgPath)) throw new FileNotFoundException($"reply model: '{cfgPath}' does not exist; expected a directory written by `nanombpo reply-model --out`", cfgPath);
        if (!File.Exists(wPath)) throw new FileNotFoundException($"reply model: '{wPath}' does not exist; expected the weights beside '{ConfigFile}'", wPath);
        ReplyModelConfig cfg;
        try { cfg = JsonSerializer.Deserialize<ReplyModelConfig>(File.ReadAllText(cfgPath)) ?? throw new JsonException("the file holds null"); }
        catch (JsonException e) { throw new InvalidDataException($"reply model config '{cfgPath}': not valid JSON for a reply model ({e.Message})", e); }
        void Expect(bool ok, string what) { if (!ok) throw new InvalidDataException($"reply model config '{cfgPath}': {what}"); }
        Expect(cfg.Format == FormatName, $"field 'format' is '{cfg.Format}'; expected '{FormatName}'");
        Expect(cfg.Classes.SequenceEqual(Classes), $"field 'classes' is [{string.Join(", ", cfg.Classes)}]; expected [{string.Join(", ", Classes)}]");
        Expect(cfg.Hidden is >= 1 and <= 1 << 16, $"field 'hidden' is {cfg.Hidden}; expected a positive width");
        Expect(cfg.Activation == "gelu", $"field 'activation' is '{cfg.Activation}'; expected 'gelu'");
        Expect(cfg.BertSha256 == embedder.CheckpointSha256,
            $"the model was trained on the BERT checkpoint with sha256 {cfg.BertSha256} (field 'bert_sha256') but the encoder given has sha256 {embedder.CheckpointSha256}; retrain it with `nanombpo reply-model --bert` for this checkpoint");
        Expect(cfg.Pooling == embedder.Pooling, $"field 'pooling' is '{cfg.Pooling}' but the encoder pools '{embedder.Pooling}'");
        Expect(cfg.Embedding == embedder.Hidden, $"field 'embedding' is {cfg.Embedding} but the encoder gives {embedder.Hidden} features");
        var m = new ReplyRewardModel(embedder, cfg, rng: null, maxTurns);
        try { Checkpoint.Load(m.Store, wPath); }
        catch (Exception e) when (e is InvalidDataException or SafeTensorsFormatException or IOException && e is not FileNotFoundException)
        {
            throw new InvalidDataException(e.Message.Contains(wPath, StringComparison.Ordinal) ? $"reply model: {e.Message}" : $"reply model weights '{wPath}': {e.Message}", e);
        }
        foreach (float v in m.Store.Data<float>())
            if (!float.IsFinite(v)) throw new InvalidDataException($"reply model weights '{wPath}': holds a non-finite value; expected finite weights");
        return m;
    }
}
