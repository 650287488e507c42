"""pytorch_model.bin -> model.safetensors for weights/convert_bert.cs (the only step that needs torch).

    python3 weights/convert_bert_bin.py HF_DIR          # writes HF_DIR/model.safetensors
    dotnet run weights/convert_bert.cs -- --src HF_DIR --out weights/NAME

Reads the torch pickle with weights_only=True where the installed torch supports it, and writes every
tensor under its own key in the safetensors layout (I64 position_ids first, then by dtype and name), the
format the .NET converter reads; shapes and keys are checked there.
"""
import json
import os
import struct
import sys

import torch

RANK = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
DTYPE = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
         torch.int64: "I64", torch.int32: "I32"}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    src = os.path.join(sys.argv[1], "pytorch_model.bin")
    try:
        sd = torch.load(src, map_location="cpu", weights_only=True)
    except TypeError:  # torch < 1.13 has no weights_only
        sd = torch.load(src, map_location="cpu")
    items = sorted(((k, v.contiguous()) for k, v in sd.items()), key=lambda kv: (-RANK.index(DTYPE[kv[1].dtype]), kv[0]))
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for k, t in items:
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[k] = {"dtype": DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    out = os.path.join(sys.argv[1], "model.safetensors")
    with open(out + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(out + ".tmp", out)
    print(f"wrote {out}: {len(items)} tensors")


if __name__ == "__main__":
    main()
