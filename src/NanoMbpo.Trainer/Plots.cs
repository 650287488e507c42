// PNG plots for results a person would rather see than read: learning curves and success rates
// with their 95% confidence intervals (ScottPlot, written atomically).
using NanoMbpo.Dialog;
using ScottPlot;

namespace NanoMbpo.Trainer;

internal static class Plots
{
    /// <summary>One or two series against a shared x axis (the second on the right axis).</summary>
    public static void Curve(string path, string title, string xLabel, double[] x, (string Name, double[] Y) left, (string Name, double[] Y)? right = null)
    {
        var plt = new Plot();
        plt.Title(title);
        plt.XLabel(xLabel);
        var a = plt.Add.Scatter(x, left.Y);
        a.LegendText = left.Name;
        plt.Axes.Left.Label.Text = left.Name;
        if (right is { } r)
        {
            var b = plt.Add.Scatter(x, r.Y);
            b.LegendText = r.Name;
            b.Axes.YAxis = plt.Axes.Right;
            plt.Axes.Right.Label.Text = r.Name;
        }
        plt.ShowLegend();
        Save(plt, path);
    }

    /// <summary>Success rate per policy as bars with Wilson 95% intervals.</summary>
    public static void SuccessBars(string path, string title, IReadOnlyList<EvalReport> reports)
    {
        var plt = new Plot();
        plt.Title(title);
        for (int i = 0; i < reports.Count; i++)
        {
            var s = reports[i].Success;
            var bar = new Bar { Position = i, Value = s.Mean, Error = (s.High - s.Low) / 2 };
            plt.Add.Bar(bar);
        }
        plt.Axes.Bottom.SetTicks(Enumerable.Range(0, reports.Count).Select(i => (double)i).ToArray(), reports.Select(r => r.Policy).ToArray());
        plt.Axes.Left.Label.Text = "success rate";
        plt.Axes.SetLimitsY(0, 1.05);
        Save(plt, path);
    }

    /// <summary>Several learning curves on the same axes (x = real dialogs), with horizontal reference levels.</summary>
    public static void Learning(string path, string title, string yLabel, IReadOnlyList<(string Name, (double X, double Y)[] Points)> series, IReadOnlyList<(string Name, double Level)> levels)
    {
        var plt = new Plot();
        plt.Title(title);
        plt.XLabel("real dialogs");
        plt.Axes.Left.Label.Text = yLabel;
        foreach (var (name, pts) in series)
        {
            if (pts.Length == 0) continue;
            var sc = plt.Add.Scatter(pts.Select(p => p.X).ToArray(), pts.Select(p => p.Y).ToArray());
            sc.LegendText = name;
        }
        foreach (var (name, level) in levels)
        {
            var h = plt.Add.HorizontalLine(level);
            h.LegendText = name;
            h.LinePattern = LinePattern.Dashed;
        }
        plt.ShowLegend();
        Save(plt, path);
    }

    static void Save(Plot plt, string path)
    {
        NanoMbpo.IO.AtomicFile.WriteAllBytes(path, plt.GetImageBytes(800, 500, ImageFormat.Png));
    }
}
