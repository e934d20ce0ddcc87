#!/usr/bin/env python3
"""Checks of qdq_int8.py's output (run by ctest after the int8_model fixture).

usage: test_qdq_int8.py FP32_MODEL INT8_MODEL RANGES_JSON

- the INT8 graph passes onnx.checker (full check);
- every Conv outside the heads reads int8 per-channel weights (one scale per
  output channel, zero points 0) and an int32 bias through DequantizeLinear;
  the heads' Convs and the graph outputs stay float32;
- the float32 model's metadata is kept, vigil.precision=int8 added;
- quantize is deterministic: the same model and ranges give the same bytes;
- a copy of the model with symbolic H and W quantizes too and stays symbolic.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "qdq_int8.py")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def quantize(model, ranges, out):
    r = subprocess.run([sys.executable, SCRIPT, "quantize", "--model", model, "--ranges", ranges, "-o", out],
                       capture_output=True, text=True, check=False)
    check(r.returncode == 0, f"quantize {os.path.basename(model)} exits 0 ({r.stderr.strip()})")


def main():
    fp32_path, int8_path, ranges_path = sys.argv[1:4]
    fp32 = onnx.load(fp32_path)
    int8 = onnx.load(int8_path)
    onnx.checker.check_model(int8, full_check=True)
    check(True, "onnx.checker (full) accepts the INT8 model")

    inits = {i.name: i for i in int8.graph.initializer}
    producers = {o: n for n in int8.graph.node for o in n.output}
    convs = [n for n in int8.graph.node if n.op_type == "Conv"]
    check(len(convs) == sum(n.op_type == "Conv" for n in fp32.graph.node), "same number of Convs")
    quantized, head = 0, 0
    for c in convs:
        w = producers.get(c.input[1])
        if w is None:
            head += 1
            check(inits[c.input[1]].data_type == onnx.TensorProto.FLOAT, f"head Conv {c.name} keeps float32 weights")
            continue
        quantized += 1
        ok = w.op_type == "DequantizeLinear"
        q = numpy_helper.to_array(inits[w.input[0]])
        scale = numpy_helper.to_array(inits[w.input[1]])
        zp = numpy_helper.to_array(inits[w.input[2]])
        axis = [a.i for a in w.attribute if a.name == "axis"]
        ok = ok and q.dtype == np.int8 and axis == [0] and scale.shape == (q.shape[0],) and not zp.any()
        ok = ok and np.abs(q).max() <= 127
        b = producers.get(c.input[2]) if len(c.input) > 2 else None
        ok = ok and b is not None and numpy_helper.to_array(inits[b.input[0]]).dtype == np.int32
        x = producers.get(c.input[0])
        ok = ok and x is not None and x.op_type == "DequantizeLinear"
        check(ok, f"Conv {c.name}: int8 input, per-channel int8 weights, int32 bias")
    check(quantized >= 30 and head == 3, f"{quantized} Convs quantized, {head} head Convs float32")
    for o in int8.graph.output:
        check(producers[o.name].op_type == "Transpose", f"output {o.name} is computed in float32")

    meta_fp32 = {p.key: p.value for p in fp32.metadata_props}
    meta_int8 = {p.key: p.value for p in int8.metadata_props}
    check(all(meta_int8.get(k) == v for k, v in meta_fp32.items()), "the float32 model's metadata is kept")
    check(meta_int8.get("vigil.precision") == "int8", "vigil.precision=int8")

    with tempfile.TemporaryDirectory() as tmp:
        again = os.path.join(tmp, "again.onnx")
        quantize(fp32_path, ranges_path, again)
        with open(again, "rb") as a, open(int8_path, "rb") as b:
            check(a.read() == b.read(), "quantize is deterministic (same bytes from the same model and ranges)")

        dyn = onnx.load(fp32_path)
        dims = dyn.graph.input[0].type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "height", "width"
        dyn_path = os.path.join(tmp, "dynamic.onnx")
        onnx.save(dyn, dyn_path)
        dyn_out = os.path.join(tmp, "dynamic-int8.onnx")
        quantize(dyn_path, ranges_path, dyn_out)
        q = onnx.load(dyn_out)
        onnx.checker.check_model(q, full_check=True)
        qd = q.graph.input[0].type.tensor_type.shape.dim
        check(qd[2].dim_param == "height" and qd[3].dim_param == "width", "symbolic H and W stay symbolic")

        aug = os.path.join(tmp, "augmented.onnx")
        r = subprocess.run([sys.executable, SCRIPT, "augment", "--model", fp32_path, "-o", aug],
                           capture_output=True, text=True, check=False)
        check(r.returncode == 0, "augment exits 0")
        a = onnx.load(aug)
        check([o.name for o in a.graph.output[:len(fp32.graph.output)]] == [o.name for o in fp32.graph.output],
              "augment keeps the original outputs first")
        check(len(a.graph.output) > 60, f"augment exposes {len(a.graph.output) - len(fp32.graph.output)} tensors")

        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w", encoding="utf-8") as f:
            f.write('{"tensors": {}}')
        r = subprocess.run([sys.executable, SCRIPT, "quantize", "--model", fp32_path, "--ranges", bad, "-o",
                            os.path.join(tmp, "x.onnx")], capture_output=True, text=True, check=False)
        check(r.returncode == 2 and "no range for" in r.stderr, f"ranges of another model are refused ({r.stderr.strip()})")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
