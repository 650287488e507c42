// `--set Name=Value` overrides for options records (e.g. `--set Sac.TargetEntropyScale=0.4`,
// `--set UpdatesPerStep=4`): a dotted path of properties, each step a record property, the last one
// an int, long, double, bool or enum. Records are copied, never mutated in place. Used by `train` and
// `compare` for ablations. Tested by tests/NanoMbpo.Tests/Agent/TrainCommandTests.cs.
using System.Globalization;
using System.Reflection;

namespace NanoMbpo.Trainer.Commands;

internal static class OptionOverrides
{
    public static T Apply<T>(T options, IEnumerable<string> settings) where T : class
    {
        foreach (var s in settings)
        {
            int eq = s.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--set: expected Name=Value, got '{s}'");
            options = (T)Set(options, s[..eq].Split('.'), s[(eq + 1)..], s);
        }
        return options;
    }

    static object Set(object target, string[] path, string value, string original)
    {
        var type = target.GetType();
        var prop = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance)
            ?? throw new ArgumentException($"--set: {type.Name} has no option '{path[0]}' (in '{original}'); it has {string.Join(", ", type.GetProperties().Where(p => p.CanWrite).Select(p => p.Name))}");
        object newValue;
        if (path.Length > 1) newValue = Set(prop.GetValue(target) ?? throw new ArgumentException($"--set: '{path[0]}' is null"), path[1..], value, original);
        else
        {
            var t = prop.PropertyType;
            try
            {
                newValue = t.IsEnum ? Enum.Parse(t, value, ignoreCase: true)
                    : t == typeof(int) ? int.Parse(value, CultureInfo.InvariantCulture)
                    : t == typeof(long) ? long.Parse(value, CultureInfo.InvariantCulture)
                    : t == typeof(double) ? double.Parse(value, CultureInfo.InvariantCulture)
                    : t == typeof(bool) ? bool.Parse(value)
                    : t == typeof(int[]) ? value.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray()
                    : throw new ArgumentException($"--set: option '{path[0]}' has type {t.Name}, which --set cannot write");
            }
            catch (FormatException) { throw new ArgumentException($"--set: '{value}' is not a valid {t.Name} for '{path[0]}'"); }
            catch (OverflowException) { throw new ArgumentException($"--set: '{value}' is out of range for '{path[0]}'"); }
        }
        // records: clone through the compiler's <Clone>$ method, then write the init-only property
        var clone = type.GetMethod("<Clone>$")?.Invoke(target, null) ?? target;
        prop.SetValue(clone, newValue);
        return clone;
    }
}
