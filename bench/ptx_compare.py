#!/usr/bin/env python3
"""Compares two `nanombpo ptx --out DIR` dumps kernel by kernel, so a kernel refactor can be checked
for codegen changes without a GPU: PTX that is the same once ILGPU's numbered names and register
numbers are normalised compiles to the same SASS, so its speed is unchanged.

Run:  nanombpo ptx --out ptx-before   (on the old code)
      nanombpo ptx --out ptx-after    (on the new code)
      python3 bench/ptx_compare.py ptx-before ptx-after
Prints, for every kernel whose normalised PTX differs, how many lines differ and whether the opcode
histogram (how many of each instruction) differs; exits 1 when any histogram or local-memory use
differs, or a kernel is missing on one side. Same histogram with a few differing lines means the
same instructions in another order (e.g. a constant moved), which ptxas schedules anyway.
"""
import collections, difflib, os, re, sys

NAME = re.compile(r"_[0-9]+\b")                  # ILGPU's global value numbers in names
REG = re.compile(r"%(r|rd|f|fd|p|h|b)[0-9]+")    # virtual register numbers
LABEL = re.compile(r"\$?L__BB[0-9_]+|BB[0-9_]+")  # basic-block labels

def normalise(path):
    with open(path) as f:
        return [LABEL.sub("L", REG.sub(r"%\1", NAME.sub("_N", line.rstrip()))) for line in f]

def opcodes(lines):
    return collections.Counter(l.split()[0] for l in lines if l.strip() and not l.lstrip().startswith("//"))

def main():
    if len(sys.argv) != 3:
        sys.exit("usage: ptx_compare.py BEFORE_DIR AFTER_DIR")
    before, after = sys.argv[1], sys.argv[2]
    names = sorted(set(os.listdir(before)) | set(os.listdir(after)))
    bad = same = 0
    for n in (x for x in names if x.endswith(".ptx")):
        if not (os.path.exists(os.path.join(before, n)) and os.path.exists(os.path.join(after, n))):
            print(f"{n}: only in {'before' if os.path.exists(os.path.join(before, n)) else 'after'}"); bad += 1; continue
        a, b = normalise(os.path.join(before, n)), normalise(os.path.join(after, n))
        if a == b: same += 1; continue
        changed = sum(1 for d in difflib.unified_diff(a, b, lineterm="", n=0) if d[:1] in "+-" and d[:3] not in ("+++", "---"))
        hist = opcodes(a) != opcodes(b)
        local = any(".local" in l for l in a) != any(".local" in l for l in b)
        print(f"{n}: {changed} lines differ; opcode histogram {'DIFFERS' if hist else 'same'}"
              f"{'; local memory use DIFFERS' if local else ''}")
        bad += hist or local
    print(f"{same} kernels identical, {bad} with different instructions")
    sys.exit(1 if bad else 0)

if __name__ == "__main__":
    main()
