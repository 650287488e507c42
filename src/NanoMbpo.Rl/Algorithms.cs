// The algorithm registry behind `nanombpo rl --algo ...`: builds an agent for an algorithm name,
// an environment name and a seed, with that algorithm's per-environment defaults.
// Tested by tests/NanoMbpo.Rl.Tests/ResumeTests.cs (every algorithm builds and resumes).
using NanoMbpo.Rl.Envs;

namespace NanoMbpo.Rl;

public static class Algorithms
{
    public static readonly string[] Names = ["sac", "sac-discrete", "mbpo", "dqn", "reinforce"];

    /// <param name="mbpo">MBPO overrides (updates per step, rollout lengths); null keeps the defaults.</param>
    public static Agent Make(string algo, string env, ulong seed, MbpoOptions? mbpo = null) => algo switch
    {
        "sac" => new Sac(Envs.Envs.Make(env), seed, SacOptions.For(env)),
        "sac-discrete" => new SacDiscrete(Envs.Envs.Make(env), seed),
        "mbpo" => new Mbpo(Envs.Envs.Make(env), seed, mbpo),
        "dqn" => new Dqn(Envs.Envs.Make(env), seed),
        "reinforce" => new Reinforce(Envs.Envs.Make(env), seed),
        _ => throw new ArgumentException($"unknown algorithm '{algo}'; expected one of {string.Join(", ", Names)}.", nameof(algo)),
    };
}
