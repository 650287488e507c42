// OnnxModel: a hand-written reader of the parts of an ONNX ModelProto that a plain BERT export needs:
// opset, graph initializers (name, dims, data_type, raw_data or float_data / int64_data) and nodes
// (op_type, inputs, outputs, Constant "value" tensors). Wire format per onnx.proto3; unknown fields
// are skipped. Tensor data stays a slice of the file buffer (no copy). Errors name the file and field.
// Tests: tests/NanoMbpo.Bert.Tests/OnnxReaderTests.cs (hand-built protos, truncation, the real MiniLM).
namespace NanoMbpo.Bert.IO;

public enum OnnxDataType { Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, BFloat16 = 16 }

public sealed class OnnxTensor
{
    public required string Name { get; init; }
    public required long[] Dims { get; init; }
    public required OnnxDataType DataType { get; init; }
    /// <summary>raw_data (little-endian), when the exporter used it.</summary>
    public ReadOnlyMemory<byte> RawData { get; init; }
    public float[]? FloatData { get; init; }
    public long[]? Int64Data { get; init; }
    public bool External { get; init; }
    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);
    public override string ToString() => $"{Name} [{string.Join(",", Dims)}] {DataType}";
}

public sealed record OnnxNode(string OpType, string Name, string[] Inputs, string[] Outputs, OnnxTensor? ConstantValue);

public sealed class OnnxModel
{
    public required string Path { get; init; }
    public long OpsetVersion { get; init; }
    public required IReadOnlyList<OnnxTensor> Initializers { get; init; }
    public required IReadOnlyList<OnnxNode> Nodes { get; init; }
    public required IReadOnlyList<string> GraphInputs { get; init; }

    public static OnnxModel Read(string path) => Parse(File.ReadAllBytes(path), path);

    public static OnnxModel Parse(ReadOnlyMemory<byte> bytes, string path)
    {
        var r = new ProtoReader(bytes, path, "ModelProto");
        ReadOnlyMemory<byte>? graph = null;
        long opset = 0;
        while (!r.End)
        {
            var (f, w) = r.Tag();
            if (f == 7) { r.Expect(w, WireType.Len, "graph (7)"); graph = r.Bytes(); }
            else if (f == 8)
            {
                r.Expect(w, WireType.Len, "opset_import (8)");
                var o = new ProtoReader(r.Bytes(), path, "ModelProto.opset_import");
                string domain = ""; long version = 0;
                while (!o.End)
                {
                    var (of, ow) = o.Tag();
                    if (of == 1 && ow == WireType.Len) domain = o.String();
                    else if (of == 2 && ow == WireType.Varint) version = (long)o.Varint();
                    else o.Skip(ow);
                }
                if (domain.Length == 0 || domain == "ai.onnx") opset = version;
            }
            else r.Skip(w);
        }
        if (graph is null) throw new BertFormatException(path, "ModelProto.graph (7)", "missing: not an ONNX model");
        var inits = new List<OnnxTensor>();
        var nodes = new List<OnnxNode>();
        var inputs = new List<string>();
        var g = new ProtoReader(graph.Value, path, "GraphProto");
        while (!g.End)
        {
            var (f, w) = g.Tag();
            switch (f)
            {
                case 1: g.Expect(w, WireType.Len, "node (1)"); nodes.Add(ReadNode(g.Bytes(), path)); break;
                case 5: g.Expect(w, WireType.Len, "initializer (5)"); inits.Add(ReadTensor(g.Bytes(), path, "GraphProto.initializer")); break;
                case 11: g.Expect(w, WireType.Len, "input (11)"); inputs.Add(ReadValueInfoName(g.Bytes(), path)); break;
                default: g.Skip(w); break;
            }
        }
        return new OnnxModel { Path = path, OpsetVersion = opset, Initializers = inits, Nodes = nodes, GraphInputs = inputs };
    }

    static string ReadValueInfoName(ReadOnlyMemory<byte> b, string path)
    {
        var r = new ProtoReader(b, path, "ValueInfoProto");
        string name = "";
        while (!r.End) { var (f, w) = r.Tag(); if (f == 1 && w == WireType.Len) name = r.String(); else r.Skip(w); }
        return name;
    }

    static OnnxNode ReadNode(ReadOnlyMemory<byte> b, string path)
    {
        var r = new ProtoReader(b, path, "NodeProto");
        var ins = new List<string>(); var outs = new List<string>();
        string op = "", name = "";
        OnnxTensor? value = null;
        while (!r.End)
        {
            var (f, w) = r.Tag();
            if (w != WireType.Len) { r.Skip(w); continue; }
            switch (f)
            {
                case 1: ins.Add(r.String()); break;
                case 2: outs.Add(r.String()); break;
                case 3: name = r.String(); break;
                case 4: op = r.String(); break;
                case 5: value = ReadAttributeTensor(r.Bytes(), path) ?? value; break;
                default: r.Skip(w); break;
            }
        }
        if (op.Length == 0) throw new BertFormatException(path, $"NodeProto '{name}' op_type (4)", "missing");
        return new OnnxNode(op, name, [.. ins], [.. outs], op == "Constant" ? value : null);
    }

    /// <summary>The tensor of an attribute named "value" (a Constant's), else null.</summary>
    static OnnxTensor? ReadAttributeTensor(ReadOnlyMemory<byte> b, string path)
    {
        var r = new ProtoReader(b, path, "AttributeProto");
        string name = ""; OnnxTensor? t = null;
        while (!r.End)
        {
            var (f, w) = r.Tag();
            if (f == 1 && w == WireType.Len) name = r.String();
            else if (f == 5 && w == WireType.Len) t = ReadTensor(r.Bytes(), path, "AttributeProto.t");
            else r.Skip(w);
        }
        return name == "value" ? t : null;
    }

    static OnnxTensor ReadTensor(ReadOnlyMemory<byte> b, string path, string where)
    {
        var r = new ProtoReader(b, path, where);
        var dims = new List<long>(); var floats = new List<float>(); var longs = new List<long>();
        string name = ""; int dataType = 0; ReadOnlyMemory<byte> raw = default; bool external = false;
        while (!r.End)
        {
            var (f, w) = r.Tag();
            switch (f)
            {
                case 1: r.Int64s(w, dims); break;
                case 2: r.Expect(w, WireType.Varint, "data_type (2)"); dataType = (int)r.Varint(); break;
                case 4: r.Floats(w, floats); break;
                case 7: r.Int64s(w, longs); break;
                case 8: r.Expect(w, WireType.Len, "name (8)"); name = r.String(); break;
                case 9: r.Expect(w, WireType.Len, "raw_data (9)"); raw = r.Bytes(); break;
                case 14: external = r.Varint() == 1; break;
                default: r.Skip(w); break;
            }
        }
        var t = new OnnxTensor
        {
            Name = name, Dims = [.. dims], DataType = (OnnxDataType)dataType, RawData = raw,
            FloatData = floats.Count > 0 ? [.. floats] : null, Int64Data = longs.Count > 0 ? [.. longs] : null, External = external,
        };
        if (dims.Any(d => d < 0)) throw new BertFormatException(path, $"{where} '{name}' dims (1)", $"negative dimension in [{string.Join(",", dims)}]");
        return t;
    }
}
