#!/usr/bin/env python3
"""Static QDQ INT8 copy of a float32 ONNX detection model (ONNX Runtime, U8S8 or S8S8).

Three steps, each a subcommand (`make` runs all three):

  augment   the float32 graph with every tensor to be quantized added as a
            graph output, for calibration;
  (vigil calibrate --model AUGMENTED --images ... --video ... -o ranges.json
            runs it in Vigil's own C++ backend, with the detector's letterbox,
            and writes min/max per tensor)
  quantize  the float32 graph with QuantizeLinear/DequantizeLinear pairs:
            8-bit activations (asymmetric, scale and zero point from the
            calibrated range; uint8 by default, int8 with --activations
            int8), int8 per-channel symmetric Conv weights, int32 biases
            (scale = input scale x weight scale): ONNX Runtime's QDQ format
            for CNNs on x86. ONNX Runtime's guide names S8S8 its default and
            U8S8 the fast path of x86, whose saturation risk exists only
            without VNNI; on the VNNI machine here U8S8 measured 1.9x faster
            than float32 and S8S8 no faster (docs/performance.md).
            The heads (the last Conv before each output and everything after
            it: Split, Sigmoid, Reshape, Transpose) stay float32, so class
            scores and box distributions keep their resolution.
  make      augment -> vigil calibrate -> quantize, in a temporary folder;
            does nothing when OUT is newer than the model and this script
            (unless --force).

The output is a function of the model and the ranges only (no dates, no
random numbers, nodes in a fixed order): the same inputs give the same bytes.
Spatial dimensions are not touched, so a model with symbolic H and W stays
dynamic. Needs python3-onnx and python3-numpy (Debian).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Ops whose inputs and outputs are quantized. ONNX Runtime's CPU provider
# fuses DQ -> op -> Q into QLinearConv, QLinearLeakyRelu, QLinearAdd,
# QLinearConcat, and runs MaxPool and Resize on int8 directly when input and
# output share one scale (so their output range is set to their input's).
QUANTIZED_OPS = {"Conv", "LeakyRelu", "MaxPool", "Concat", "Add", "Resize"}
RANGE_PRESERVING_OPS = {"MaxPool", "Resize"}
# Between a head's last Conv and a graph output: kept float32.
HEAD_OPS = {"Split", "Sigmoid", "Softmax", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity"}
MIN_OPSET = 13  # per-axis QuantizeLinear/DequantizeLinear
SCRIPT = os.path.abspath(__file__)

DEFAULT_IMAGES = ["/usr/share/darknet/data/giraffe.jpg", "/usr/share/darknet/data/kite.jpg",
                  "/usr/share/darknet/data/scream.jpg"]
DEFAULT_VIDEOS = ["/usr/share/doc/opencv-doc/examples/data/vtest.avi"]
DEFAULT_FRAMES = 16
DEFAULT_SPAN = 790


def fail(msg):
    print("qdq_int8: " + msg, file=sys.stderr)
    sys.exit(2)


def load_model(path):
    if not os.path.isfile(path):
        fail(f"{path}: no such file")
    try:
        model = onnx.load(path)
    except Exception as e:  # noqa: BLE001 - any parse error is a bad input
        fail(f"{path}: not an ONNX model ({e})")
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        fail(f"{path}: opset {opset}; per-channel QDQ needs opset >= {MIN_OPSET}")
    for n in model.graph.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear", "QLinearConv"):
            fail(f"{path}: already quantized (node {n.name or n.op_type})")
    return model


class Plan:
    """Which nodes are quantized and which tensors need a range."""

    def __init__(self, graph):
        self.graph = graph
        self.inits = {i.name: i for i in graph.initializer}
        self.producer = {}
        self.consumers = {}
        for idx, n in enumerate(graph.node):
            for o in n.output:
                self.producer[o] = idx
            for i in n.input:
                if i:
                    self.consumers.setdefault(i, []).append(idx)
        self.head_nodes = self._head_nodes()
        self.quantized = [idx for idx, n in enumerate(graph.node)
                          if n.op_type in QUANTIZED_OPS and idx not in self.head_nodes]
        self.tensors = self._tensors()

    def _head_nodes(self):
        """Nodes from each graph output back through HEAD_OPS to the first Conv (included)."""
        head = set()
        stack = [o.name for o in self.graph.output]
        while stack:
            t = stack.pop()
            idx = self.producer.get(t)
            if idx is None or idx in head:
                continue
            n = self.graph.node[idx]
            if n.op_type == "Conv":
                head.add(idx)
                continue
            if n.op_type not in HEAD_OPS:
                continue
            head.add(idx)
            stack.extend(i for i in n.input if i and i not in self.inits)
        return head

    def is_activation(self, name):
        return bool(name) and name not in self.inits

    def _tensors(self):
        """Activation tensors read or written by quantized nodes, in graph order."""
        seen, out = set(), []

        def add(t):
            if self.is_activation(t) and t not in seen:
                seen.add(t)
                out.append(t)

        for i in self.graph.input:
            if any(c in self.quantized for c in self.consumers.get(i.name, [])):
                add(i.name)
        for idx in self.quantized:
            n = self.graph.node[idx]
            if n.op_type == "Resize":
                add(n.input[0])  # roi and scales are not data
            else:
                for i in n.input:
                    add(i)
            for o in n.output:
                add(o)
        return out


def augment(model_path, out_path):
    model = load_model(model_path)
    plan = Plan(model.graph)
    existing = {o.name for o in model.graph.output}
    # Graph outputs need a type with a shape; ONNX shape inference gives the
    # rank (dims stay symbolic where the model's are).
    inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    for t in plan.tensors:
        if t in existing:
            continue
        if t in inferred and inferred[t].type.tensor_type.HasField("shape"):
            model.graph.output.append(inferred[t])
        else:
            model.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, [None, None, None, None]))
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    print(f"qdq_int8: {len(plan.tensors)} tensors to calibrate -> {out_path}", file=sys.stderr)


# Activation types: uint8 (U8S8, the default: measured 1.9x faster than
# float32 here, while S8S8 was no faster; docs/performance.md) or int8 (S8S8).
ACTIVATION_TYPES = {"uint8": (np.uint8, 0, 255), "int8": (np.int8, -128, 127)}


def activation_qparams(rmin, rmax, activations):
    """Asymmetric: zero exactly representable (zero padding stays exact)."""
    dtype, qmin, qmax = ACTIVATION_TYPES[activations]
    rmin, rmax = min(float(rmin), 0.0), max(float(rmax), 0.0)
    scale = np.float32((rmax - rmin) / (qmax - qmin))
    if scale == 0 or not np.isfinite(scale):
        return np.float32(1.0), dtype(0)
    zp = int(np.clip(np.round(qmin - rmin / float(scale)), qmin, qmax))
    return scale, dtype(zp)


def weight_qparams(w):
    """Per output channel (axis 0), symmetric int8 in [-127, 127], zero point 0."""
    flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1).astype(np.float32)
    scale = (flat / np.float32(127.0)).astype(np.float32)
    scale[scale == 0] = np.float32(1.0)
    shape = (-1,) + (1,) * (w.ndim - 1)
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def read_ranges(path, plan):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        tensors = doc["tensors"]
    except (OSError, ValueError, KeyError) as e:
        fail(f"{path}: not a ranges file of vigil calibrate ({e})")
    missing = [t for t in plan.tensors if t not in tensors]
    if missing:
        fail(f"{path}: no range for {len(missing)} tensors, e.g. '{missing[0]}' (calibrated with another model?)")
    ranges = {t: (float(tensors[t][0]), float(tensors[t][1])) for t in plan.tensors}
    # MaxPool and Resize outputs lie within their inputs: one scale for both
    # lets ONNX Runtime run them on int8 without requantizing.
    for idx in plan.quantized:
        n = plan.graph.node[idx]
        if n.op_type in RANGE_PRESERVING_OPS:
            ranges[n.output[0]] = ranges[n.input[0]]
    return ranges, doc


def quantize(model_path, ranges_path, out_path, activations="uint8"):
    model = load_model(model_path)
    graph = model.graph
    plan = Plan(graph)
    ranges, doc = read_ranges(ranges_path, plan)

    new_inits = []
    qparams = {}
    for t in plan.tensors:
        scale, zp = activation_qparams(*ranges[t], activations)
        qparams[t] = (scale, zp)
        new_inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), t + "_scale"))
        new_inits.append(numpy_helper.from_array(np.array(zp, dtype=zp.dtype), t + "_zero_point"))

    def qdq_nodes(t):
        return [
            helper.make_node("QuantizeLinear", [t, t + "_scale", t + "_zero_point"], [t + "_quantized"],
                             name=t + "_QuantizeLinear"),
            helper.make_node("DequantizeLinear", [t + "_quantized", t + "_scale", t + "_zero_point"],
                             [t + "_dequantized"], name=t + "_DequantizeLinear"),
        ]

    rename = {t: t + "_dequantized" for t in plan.tensors}
    graph_outputs = {o.name for o in graph.output}
    front, body = [], []
    for i in graph.input:
        if i.name in rename:
            front.extend(qdq_nodes(i.name))
    weights_done = 0
    for idx, node in enumerate(graph.node):
        n = onnx.NodeProto()
        n.CopyFrom(node)
        for k, name in enumerate(n.input):
            if name in rename:
                n.input[k] = rename[name]
        if idx in plan.quantized and n.op_type == "Conv":
            weights_done += quantize_conv_weights(n, node, plan, qparams, new_inits, front)
        body.append(n)
        for o in node.output:
            if o in rename:
                if o in graph_outputs:
                    fail(f"graph output '{o}' would be quantized; the heads must stay float32")
                body.extend(qdq_nodes(o))

    used_inits = [i for i in graph.initializer if not _replaced(i.name, front)]
    del graph.node[:]
    graph.node.extend(front + body)
    del graph.initializer[:]
    graph.initializer.extend(used_inits + new_inits)
    meta = {p.key: p.value for p in model.metadata_props}
    meta["vigil.precision"] = "int8"
    meta["vigil.quantizer"] = ("tools/quantize/qdq_int8.py: QDQ %s, per-channel symmetric int8 Conv weights, "
                               "asymmetric %s activations, heads float32"
                               % ("U8S8" if activations == "uint8" else "S8S8", activations))
    meta["vigil.calibration"] = "%s over %d images (%s)" % (doc.get("method", "minmax"), doc.get("images", 0),
                                                             ", ".join(doc.get("inputs", [])))
    del model.metadata_props[:]
    for k in meta:  # the original order, new keys last
        model.metadata_props.add(key=k, value=meta[k])
    onnx.checker.check_model(model)
    tmp = out_path + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, out_path)
    print(f"qdq_int8: {len(plan.tensors)} activations and {weights_done} Conv weights quantized, "
          f"{len(plan.head_nodes)} head nodes float32 -> {out_path}", file=sys.stderr)


def _replaced(name, front):
    """Float weights and biases replaced by int8/int32 copies are dropped."""
    return any(n.op_type == "DequantizeLinear" and n.output[0] == name for n in front)


def quantize_conv_weights(n, original, plan, qparams, new_inits, front):
    """Conv weight -> int8 per channel, bias -> int32; DequantizeLinear (axis 0) feeds the Conv."""
    w_name = original.input[1]
    if w_name not in plan.inits:
        return 0  # a computed weight: left float32
    if any(f.output[0] in original.input[1:] for f in front):
        fail(f"Conv {original.name}: its weight or bias is shared with another Conv (not supported)")
    w = numpy_helper.to_array(plan.inits[w_name]).astype(np.float32)
    qw, w_scale = weight_qparams(w)
    new_inits.append(numpy_helper.from_array(qw, w_name + "_quantized"))
    new_inits.append(numpy_helper.from_array(w_scale, w_name + "_scale"))
    new_inits.append(numpy_helper.from_array(np.zeros(w.shape[0], dtype=np.int8), w_name + "_zero_point"))
    front.append(helper.make_node("DequantizeLinear", [w_name + "_quantized", w_name + "_scale", w_name + "_zero_point"],
                                  [w_name], name=w_name + "_DequantizeLinear", axis=0))
    if len(original.input) > 2 and original.input[2] in plan.inits:
        b_name = original.input[2]
        b = numpy_helper.to_array(plan.inits[b_name]).astype(np.float32)
        x_scale = qparams[original.input[0]][0]
        b_scale = (w_scale * x_scale).astype(np.float32)
        qb = np.clip(np.round(b / b_scale), -(2 ** 31), 2 ** 31 - 1).astype(np.int32)
        new_inits.append(numpy_helper.from_array(qb, b_name + "_quantized"))
        new_inits.append(numpy_helper.from_array(b_scale, b_name + "_scale"))
        new_inits.append(numpy_helper.from_array(np.zeros(b.shape[0], dtype=np.int32), b_name + "_zero_point"))
        front.append(helper.make_node("DequantizeLinear",
                                      [b_name + "_quantized", b_name + "_scale", b_name + "_zero_point"], [b_name],
                                      name=b_name + "_DequantizeLinear", axis=0))
    return 1


def newer_than_inputs(out, inputs):
    if not os.path.isfile(out):
        return False
    t = os.path.getmtime(out)
    return all(os.path.getmtime(i) <= t for i in inputs)


def make(args):
    inputs = [args.model, SCRIPT]
    if not args.force and newer_than_inputs(args.out, inputs):
        print(f"qdq_int8: {args.out} is up to date", file=sys.stderr)
        return
    args.vigil = os.path.abspath(args.vigil)
    if not os.access(args.vigil, os.X_OK):
        fail(f"--vigil {args.vigil}: not an executable (build vigil first)")
    images = args.images if args.images is not None else DEFAULT_IMAGES
    videos = args.video if args.video is not None else DEFAULT_VIDEOS
    for p in images + videos:
        if not os.path.isfile(p):
            fail(f"calibration input {p}: no such file")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qdq_int8.") as tmp:
        aug = os.path.join(tmp, "augmented.onnx")
        ranges = os.path.join(tmp, "ranges.json")
        augment(args.model, aug)
        cmd = [args.vigil, "calibrate", "--model", aug, "-o", ranges, "--frames", str(args.frames),
               "--span", str(args.span)]
        if images:
            cmd += ["--images"] + images
        if videos:
            cmd += ["--video"] + videos
        env = dict(os.environ, VIGIL_LOG=os.environ.get("VIGIL_LOG", "warn"))
        if subprocess.run(cmd, env=env, check=False).returncode != 0:
            fail("vigil calibrate failed: " + " ".join(cmd))
        if args.keep_ranges:
            with open(ranges, encoding="utf-8") as src, open(args.keep_ranges, "w", encoding="utf-8") as dst:
                dst.write(src.read())
        quantize(args.model, ranges, args.out, args.activations)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("augment", help="the graph with the tensors to calibrate as outputs")
    a.add_argument("--model", required=True)
    a.add_argument("-o", "--out", required=True)
    q = sub.add_parser("quantize", help="the QDQ INT8 graph from the model and vigil calibrate's ranges")
    q.add_argument("--model", required=True)
    q.add_argument("--ranges", required=True)
    q.add_argument("-o", "--out", required=True)
    q.add_argument("--activations", choices=sorted(ACTIVATION_TYPES), default="uint8",
                   help="activation type: uint8 (U8S8, default) or int8 (S8S8)")
    m = sub.add_parser("make", help="augment, calibrate with vigil, quantize (skipped when up to date)")
    m.add_argument("--vigil", required=True, help="the vigil binary (build/vigil)")
    m.add_argument("--model", required=True)
    m.add_argument("-o", "--out", required=True)
    m.add_argument("--images", nargs="*", help="calibration images (default: giraffe, kite, scream of darknet)")
    m.add_argument("--video", nargs="*", help="calibration videos (default: opencv-doc's vtest.avi)")
    m.add_argument("--frames", type=int, default=DEFAULT_FRAMES, help="frames per video")
    m.add_argument("--span", type=int, default=DEFAULT_SPAN, help="frames spread over the first SPAN of each video")
    m.add_argument("--keep-ranges", help="also write the calibration ranges here")
    m.add_argument("--force", action="store_true", help="make it even when up to date")
    m.add_argument("--activations", choices=sorted(ACTIVATION_TYPES), default="uint8",
                   help="activation type: uint8 (U8S8, default) or int8 (S8S8)")
    args = p.parse_args()
    if args.cmd == "augment":
        augment(args.model, args.out)
    elif args.cmd == "quantize":
        quantize(args.model, args.ranges, args.out, args.activations)
    else:
        make(args)


if __name__ == "__main__":
    main()
