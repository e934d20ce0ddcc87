#!/usr/bin/python3
"""Generate tiny ONNX models with exactly known outputs for Vigil's decoder tests.

Usage:
    /usr/bin/python3 tests/tools/make_test_models.py OUT_DIR

Needs only the Debian python3-onnx (1.12) and numpy packages; no onnxruntime,
no network. The output is byte-for-byte deterministic (no randomness, no
timestamps), every model uses opset 13 / ir_version 8 and passes
onnx.checker.

Every model has one input ``images`` of shape ['batch', 3, H, W]. The pixel
values are ignored: each output is a constant tensor stored with batch dim 1
and broadcast to the runtime batch size by

    Shape(images) -> Slice[0:1] -> Concat(batch, other dims) -> Expand(const)

so every batch sample gets an identical copy and output dim 0 is the symbolic
'batch'. A test may therefore feed any image of the right size (or a batch of
them) and must get the same detections for every sample.

Files written into OUT_DIR:

yolov8.onnx
    Ultralytics YOLOv8 detect head, 640x640. Output ``output0`` float32
    [batch, 4+C, N] with C=3, N=50 (channels-first: rows 0..3 cx,cy,w,h in
    input pixels, rows 4..6 class probabilities, no objectness). Contains 3
    true objects (person 0.9, car 0.8, dog 0.7), two same-class duplicates of
    the person (0.6, 0.5, IoU > 0.7) that NMS must remove, and a *dog*
    duplicate of the car (0.55, high IoU) that class-aware NMS must keep. All
    other columns score <= 0.05. Tests: channels-first transpose, the score
    threshold, class-aware NMS and letterbox un-mapping (objects are spread
    over y 150..500 so the vertical letterbox offset matters for non-square
    source frames). Ultralytics metadata_props (names/imgsz/stride/task/
    description/author) exercise metadata-driven detection of the family.

yolov8_fp16.onnx
    Same layout as yolov8.onnx but exported "half=True" style: input
    ``images`` and output ``output0`` are float16. All coordinates are
    integers and all scores are dyadic fractions (0.875, 0.75, 0.625,
    0.5625, 0.4375, 0.5, background <= 0.046875), so the expected values are
    exact. Tests float16 input conversion and float16 output decoding.

yolov5.onnx
    YOLOv5 head, 640x640. Output ``output0`` float32 [batch, N, 5+C] with
    C=3, N=40 (rows: cx,cy,w,h,objectness,class probs; score = obj * cls).
    3 true objects, one same-class duplicate of object 1 (removed by NMS) and
    one candidate with class prob 0.9 but objectness 0.1 (score 0.09 < 0.25:
    must be dropped; it does not overlap anything, so a decoder that ignores
    objectness reports an extra box). Tests the row-major layout and the
    obj*cls score.

yolov10.onnx
    YOLOv10 end-to-end head, 640x640. Output ``output0`` float32
    [batch, K, 6] with K=30 (x1,y1,x2,y2 in input pixels, score, class id as
    float). Rows 0..2 are the 3 objects, all other rows are zero (score 0).
    metadata also has end2end=True. Tests the NMS-free path (the 3 boxes do
    not overlap, so applying NMS anyway is harmless).

nanodet_small.onnx
    Vigil's NanoDet layout at 64x64 with C=3, reg_max=7, strides 8 and 16.
    Outputs (float32):
        cls_pred_stride8  [batch, 64, 3]   8x8 grid, cell index gy*8+gx
        cls_pred_stride16 [batch, 16, 3]   4x4 grid, cell index gy*4+gx
        dis_pred_stride8  [batch, 64, 32]  left,top,right,bottom x 8 bins
        dis_pred_stride16 [batch, 16, 32]
    Class scores are already probabilities (vigil.scores=sigmoid). Distances
    are logits: softmax over the 8 bins, expectation sum(i*p_i), times the
    stride. Anchor of cell (gx,gy) is (gx*s, gy*s) (no +0.5); box =
    (ax-l, ay-t, ax+r, ay+b). One object per stride level with one-hot-ish
    logits (20.0 at the chosen bin); every other cell scores 0.01. vigil.*
    metadata_props describe preprocessing (BGR, mean/std, NCHW).

unsupported.onnx
    Input [batch,3,64,64], single output ``out`` [batch,7,7,7]: a layout no
    decoder supports; model loading/decoder selection must fail cleanly.

not_a_model.onnx
    A text file, not protobuf: loading must fail with a clean error.

expected.json
    For each of the five decodable models: input_w, input_h, conf (0.25),
    iou (0.45) and the detections that survive conf 0.25 + class-aware NMS at
    IoU 0.45, in model-input pixels as [x1,y1,x2,y2], sorted by score
    descending. The list is written by construction from the same constants
    that go into the models (not by running a generic NMS); the script
    asserts that every discarded candidate really overlaps a kept box of the
    same class with IoU > 0.45 (duplicates > 0.7), that kept boxes of the
    same class do not suppress each other, and that everything else is below
    the confidence threshold.
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8
CONF = 0.25
IOU = 0.45
NAMES = ["person", "car", "dog"]
NUM_CLASSES = len(NAMES)
ULTRALYTICS_NAMES = repr({i: n for i, n in enumerate(NAMES)})  # "{0: 'person', 1: 'car', 2: 'dog'}"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def iou(a, b):
    """IoU of two x1y1x2y2 boxes (float64)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area_a + area_b - inter)


def cxcywh_to_xyxy(cx, cy, w, h):
    return [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]


def as_json_number(v, ndigits=6):
    """Round to ndigits; always a float so JSON readers see a number with a '.'."""
    return float(round(float(v), ndigits))


def det(class_id, score, box, ndigits=6):
    return {
        "class_id": int(class_id),
        "score": as_json_number(score, 6),
        "box": [as_json_number(c, ndigits) for c in box],
    }


def check_box_inside(box, w, h):
    assert 0 <= box[0] < box[2] <= w and 0 <= box[1] < box[3] <= h, box


def check_survivors(kept, dropped_nms, w, h):
    """kept: list of (cls, score, box); dropped_nms: list of (cls, score, box)
    that class-aware NMS must remove."""
    for c, s, b in kept:
        assert s >= CONF, (c, s)
        check_box_inside(b, w, h)
    # kept boxes must not suppress each other (same class IoU <= threshold)
    for i in range(len(kept)):
        for j in range(i + 1, len(kept)):
            if kept[i][0] == kept[j][0]:
                assert iou(kept[i][2], kept[j][2]) <= IOU, (kept[i], kept[j])
    # every dropped candidate is above conf and overlaps a higher-scored kept
    # box of the same class
    for c, s, b in dropped_nms:
        assert s >= CONF
        check_box_inside(b, w, h)
        assert any(kc == c and ks > s and iou(kb, b) > IOU for kc, ks, kb in kept), (c, s, b)
        # and it does not overlap a kept box of its class with a LOWER score
        # (otherwise the suppression order would matter)
        assert not any(kc == c and ks < s and iou(kb, b) > IOU for kc, ks, kb in kept)


def expected_entry(w, h, kept, ndigits=6):
    dets = sorted(kept, key=lambda k: -k[1])
    scores = [d[1] for d in dets]
    assert len(set(scores)) == len(scores), "ties would make the order ambiguous"
    return {
        "input_w": w,
        "input_h": h,
        "conf": CONF,
        "iou": IOU,
        "detections": [det(c, s, b, ndigits) for c, s, b in dets],
    }


class GraphBuilder:
    """Builds `images` -> constant outputs broadcast along the batch dim."""

    def __init__(self, in_h, in_w, elem_type=TensorProto.FLOAT):
        self.nodes = []
        self.inits = []
        self.outputs = []
        self.input = helper.make_tensor_value_info(
            "images", elem_type, ["batch", 3, in_h, in_w])
        self.inits.append(numpy_helper.from_array(np.array([0], dtype=np.int64), "batch_start"))
        self.inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "batch_end"))
        self.nodes.append(helper.make_node("Shape", ["images"], ["images_shape"], name="images_shape"))
        self.nodes.append(helper.make_node(
            "Slice", ["images_shape", "batch_start", "batch_end"], ["batch_dim"], name="batch_dim"))

    def add_output(self, name, const, elem_type):
        """const: numpy array whose dim 0 is 1."""
        assert const.shape[0] == 1
        rest = np.array(const.shape[1:], dtype=np.int64)
        self.inits.append(numpy_helper.from_array(const, name + "_const"))
        self.inits.append(numpy_helper.from_array(rest, name + "_rest_dims"))
        self.nodes.append(helper.make_node(
            "Concat", ["batch_dim", name + "_rest_dims"], [name + "_shape"], axis=0,
            name=name + "_shape"))
        self.nodes.append(helper.make_node(
            "Expand", [name + "_const", name + "_shape"], [name], name=name + "_expand"))
        self.outputs.append(helper.make_tensor_value_info(
            name, elem_type, ["batch"] + list(const.shape[1:])))

    def build(self, graph_name, metadata):
        graph = helper.make_graph(self.nodes, graph_name, [self.input], self.outputs,
                                  initializer=self.inits)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="vigil-make_test_models", producer_version="1")
        model.ir_version = IR_VERSION
        model.doc_string = graph_name
        for k, v in metadata:
            entry = model.metadata_props.add()
            entry.key = k
            entry.value = v
        onnx.checker.check_model(model, full_check=True)
        return model


def ultralytics_metadata(description, imgsz=640, extra=()):
    return [
        ("description", description),
        ("author", "Ultralytics"),
        ("stride", "32"),
        ("task", "detect"),
        ("imgsz", "[%d, %d]" % (imgsz, imgsz)),
        ("names", ULTRALYTICS_NAMES),
    ] + list(extra)


def save(model, out_dir, filename):
    path = os.path.join(out_dir, filename)
    data = model.SerializeToString(deterministic=True)
    with open(path, "wb") as f:
        f.write(data)
    onnx.checker.check_model(path)
    return path


# --------------------------------------------------------------------------
# YOLOv8 (float32 and float16)
# --------------------------------------------------------------------------

V8_N = 50


def yolov8_candidates(fp16):
    """Returns (objects, background_score_fn, bg_score_cap).

    objects: list of (column, class_id, score, cx, cy, w, h, role) where role is
    'keep' or 'nms'."""
    if fp16:
        s_a, s_b, s_c, s_d1, s_d2, s_x = 0.875, 0.75, 0.625, 0.5625, 0.4375, 0.5
    else:
        s_a, s_b, s_c, s_d1, s_d2, s_x = 0.9, 0.8, 0.7, 0.6, 0.5, 0.55
    objs = [
        # col, cls, score, cx, cy, w, h, role
        (7, 0, s_a, 200.0, 300.0, 100.0, 200.0, "keep"),   # A person  -> 150,200,250,400
        (11, 0, s_d1, 204.0, 304.0, 100.0, 200.0, "nms"),  # A dup (same class)
        (12, 0, s_d2, 196.0, 298.0, 104.0, 204.0, "nms"),  # A dup (same class)
        (23, 1, s_b, 420.0, 250.0, 160.0, 100.0, "keep"),  # B car     -> 340,200,500,300
        (24, 2, s_x, 424.0, 254.0, 160.0, 100.0, "keep"),  # B dup, other class (dog)
        (38, 2, s_c, 320.0, 450.0, 80.0, 60.0, "keep"),    # C dog     -> 280,420,360,480
    ]
    return objs


def build_yolov8(fp16):
    np_t = np.float16 if fp16 else np.float32
    elem = TensorProto.FLOAT16 if fp16 else TensorProto.FLOAT
    other_score = 1.0 / 64.0 if fp16 else 0.02  # non-argmax classes of real objects
    t = np.zeros((1, 4 + NUM_CLASSES, V8_N), dtype=np.float64)
    objs = yolov8_candidates(fp16)
    used = set()
    for col, c, s, cx, cy, w, h, _ in objs:
        used.add(col)
        t[0, 0:4, col] = (cx, cy, w, h)
        t[0, 4:, col] = other_score
        t[0, 4 + c, col] = s
    bg_max = 0.0
    for j in range(V8_N):
        if j in used:
            continue
        t[0, 0, j] = 40 + (j * 37) % 560   # cx
        t[0, 1, j] = 40 + (j * 53) % 560   # cy
        t[0, 2, j] = 16 + (j * 7) % 60     # w
        t[0, 3, j] = 16 + (j * 11) % 60    # h
        for c in range(NUM_CLASSES):
            # 1/128..6/128 (fp16-exact) or 0.01..0.05
            v = ((j + 2 * c) % 6 + 1) / 128.0 if fp16 else 0.01 * ((j + c) % 5 + 1)
            t[0, 4 + c, j] = v
            bg_max = max(bg_max, v)
    assert bg_max <= 0.05
    const = t.astype(np_t)
    if fp16:
        assert np.array_equal(const.astype(np.float64), t), "fp16 constants must be exact"

    # expected (scores as stored in the tensor's precision)
    kept, dropped = [], []
    for col, c, s, cx, cy, w, h, role in objs:
        score = float(np_t(s))
        box = cxcywh_to_xyxy(float(np_t(cx)), float(np_t(cy)), float(np_t(w)), float(np_t(h)))
        (kept if role == "keep" else dropped).append((c, score, box))
    check_survivors(kept, dropped, 640, 640)
    a_box = kept[0][2]
    for c, s, b in dropped:  # required: duplicates of A have IoU > 0.7
        assert c == kept[0][0] and iou(a_box, b) > 0.7
    # cross-class duplicate of B: other class, high IoU, kept
    b_obj, x_obj = kept[1], kept[2]
    assert b_obj[0] == 1 and x_obj[0] == 2 and iou(b_obj[2], x_obj[2]) > 0.7
    # objects spread vertically (letterbox offset matters)
    assert min(k[2][1] for k in kept) >= 150 and max(k[2][3] for k in kept) <= 500

    g = GraphBuilder(640, 640, elem)
    g.add_output("output0", const, elem)
    desc = "Ultralytics YOLOv8n model (test)"
    model = g.build("yolov8_fp16_test" if fp16 else "yolov8_test", ultralytics_metadata(desc))
    return model, expected_entry(640, 640, kept)


# --------------------------------------------------------------------------
# YOLOv5
# --------------------------------------------------------------------------

V5_N = 40


def build_yolov5():
    t = np.zeros((1, V5_N, 5 + NUM_CLASSES), dtype=np.float64)
    objs = [
        # row, cls, obj, cls_prob, cx, cy, w, h, role
        (2, 0, 0.95, 0.9, 160.0, 260.0, 120.0, 200.0, "keep"),   # person -> 100,160,220,360
        (5, 0, 0.9, 0.7, 166.0, 266.0, 120.0, 200.0, "nms"),     # same-class dup
        (14, 1, 0.9, 0.8, 440.0, 330.0, 200.0, 120.0, "keep"),   # car -> 340,270,540,390
        (27, 2, 0.8, 0.75, 300.0, 460.0, 90.0, 70.0, "keep"),    # dog -> 255,425,345,495
        (33, 1, 0.1, 0.9, 520.0, 560.0, 100.0, 60.0, "low"),     # obj too low: 0.09
    ]
    used = set()
    for row, c, o, p, cx, cy, w, h, _ in objs:
        used.add(row)
        t[0, row, 0:5] = (cx, cy, w, h, o)
        t[0, row, 5:] = 0.02
        t[0, row, 5 + c] = p
    for j in range(V5_N):
        if j in used:
            continue
        t[0, j, 0] = 48 + (j * 41) % 540
        t[0, j, 1] = 48 + (j * 59) % 540
        t[0, j, 2] = 16 + (j * 13) % 64
        t[0, j, 3] = 16 + (j * 17) % 64
        t[0, j, 4] = 0.01 * (j % 5 + 1)            # objectness <= 0.05
        for c in range(NUM_CLASSES):
            t[0, j, 5 + c] = 0.1 * ((j + c) % 5 + 1)  # cls <= 0.5 -> score <= 0.025
    const = t.astype(np.float32)

    kept, dropped = [], []
    f = np.float32
    for row, c, o, p, cx, cy, w, h, role in objs:
        score = float(f(o) * f(p))
        box = cxcywh_to_xyxy(float(f(cx)), float(f(cy)), float(f(w)), float(f(h)))
        if role == "keep":
            kept.append((c, score, box))
        elif role == "nms":
            dropped.append((c, score, box))
        else:
            assert score < CONF and p >= 0.9 and o <= 0.1
            low_box = box
    # the low-objectness candidate must not overlap anything (so it cannot be
    # hidden by NMS if a decoder wrongly ignores objectness)
    for _, _, b in kept + dropped:
        assert iou(b, low_box) == 0.0
    check_survivors(kept, dropped, 640, 640)
    bg_scores = const[0, :, 4:5] * const[0, :, 5:]
    mask = np.ones(V5_N, dtype=bool)
    mask[list(used)] = False
    assert bg_scores[mask].max() < 0.05

    g = GraphBuilder(640, 640)
    g.add_output("output0", const, TensorProto.FLOAT)
    model = g.build("yolov5_test", ultralytics_metadata("Ultralytics YOLOv5n model (test)"))
    return model, expected_entry(640, 640, kept)


# --------------------------------------------------------------------------
# YOLOv10
# --------------------------------------------------------------------------

V10_K = 30


def build_yolov10():
    rows = [
        # x1, y1, x2, y2, score, cls
        (120.0, 180.0, 260.0, 470.0, 0.9, 0),    # person
        (330.0, 220.0, 560.0, 330.0, 0.8, 1),    # car
        (300.0, 380.0, 420.0, 500.0, 0.7, 2),    # dog
    ]
    t = np.zeros((1, V10_K, 6), dtype=np.float64)
    for i, r in enumerate(rows):
        t[0, i] = r
    const = t.astype(np.float32)
    f = np.float32
    kept = [(int(r[5]), float(f(r[4])), [float(f(v)) for v in r[:4]]) for r in rows]
    check_survivors(kept, [], 640, 640)
    for i in range(len(kept)):
        for j in range(i + 1, len(kept)):
            assert iou(kept[i][2], kept[j][2]) <= IOU  # even class-agnostic NMS keeps all

    g = GraphBuilder(640, 640)
    g.add_output("output0", const, TensorProto.FLOAT)
    meta = ultralytics_metadata("Ultralytics YOLOv10n model (test)", extra=[("end2end", "True")])
    model = g.build("yolov10_test", meta)
    return model, expected_entry(640, 640, kept)


# --------------------------------------------------------------------------
# NanoDet (Vigil layout)
# --------------------------------------------------------------------------

ND_SIZE = 64
ND_STRIDES = (8, 16)
ND_REG_MAX = 7
ND_BINS = ND_REG_MAX + 1
ND_HOT = 20.0
ND_BG_SCORE = 0.01


def softmax_distance(logits):
    """Exactly the decoder maths, in float64: softmax over the bins, expectation."""
    x = np.asarray(logits, dtype=np.float64)
    e = np.exp(x - x.max())
    p = e / e.sum()
    return float((p * np.arange(len(x), dtype=np.float64)).sum())


def build_nanodet():
    objs = [
        # stride, gx, gy, cls, score, (l, t, r, b) bins
        (8, 3, 4, 1, 0.85, (2, 3, 1, 2)),   # anchor (24,32) -> box ~ (8, 8, 32, 48)
        (16, 2, 1, 0, 0.75, (1, 0, 1, 2)),  # anchor (32,16) -> box ~ (16, 16, 48, 48)
    ]
    consts = {}
    kept = []
    for s in ND_STRIDES:
        g = ND_SIZE // s
        cls = np.full((1, g * g, NUM_CLASSES), ND_BG_SCORE, dtype=np.float32)
        dis = np.zeros((1, g * g, 4 * ND_BINS), dtype=np.float32)
        for os_, gx, gy, c, score, bins in objs:
            if os_ != s:
                continue
            cell = gy * g + gx
            cls[0, cell, c] = score
            dists = []
            for side, b in enumerate(bins):
                logits = np.zeros(ND_BINS, dtype=np.float32)
                logits[b] = ND_HOT
                dis[0, cell, side * ND_BINS:(side + 1) * ND_BINS] = logits
                d = softmax_distance(logits)
                assert abs(d - b) < 1e-6
                dists.append(d * s)
            ax, ay = float(gx * s), float(gy * s)
            box = [ax - dists[0], ay - dists[1], ax + dists[2], ay + dists[3]]
            check_box_inside(box, ND_SIZE, ND_SIZE)
            kept.append((c, float(np.float32(score)), box))
        consts[s] = (cls, dis)
    check_survivors(kept, [], ND_SIZE, ND_SIZE)
    assert ND_BG_SCORE < CONF

    gb = GraphBuilder(ND_SIZE, ND_SIZE)
    for s in ND_STRIDES:
        gb.add_output("cls_pred_stride%d" % s, consts[s][0], TensorProto.FLOAT)
    for s in ND_STRIDES:
        gb.add_output("dis_pred_stride%d" % s, consts[s][1], TensorProto.FLOAT)
    meta = [
        ("vigil.arch", "nanodet"),
        ("vigil.input_size", "%d,%d" % (ND_SIZE, ND_SIZE)),
        ("vigil.layout", "NCHW"),
        ("vigil.color", "BGR"),
        ("vigil.mean", "103.53,116.28,123.675"),
        ("vigil.std", "57.375,57.12,58.395"),
        ("vigil.strides", ",".join(str(s) for s in ND_STRIDES)),
        ("vigil.reg_max", str(ND_REG_MAX)),
        ("vigil.scores", "sigmoid"),
        ("vigil.names", json.dumps(NAMES, separators=(",", ":"))),
    ]
    model = gb.build("nanodet_small_test", meta)
    return model, expected_entry(ND_SIZE, ND_SIZE, kept, ndigits=4)


# --------------------------------------------------------------------------
# Unsupported layout
# --------------------------------------------------------------------------

def build_unsupported():
    const = (np.arange(7 * 7 * 7, dtype=np.float32) / 343.0).reshape(1, 7, 7, 7)
    g = GraphBuilder(64, 64)
    g.add_output("out", const, TensorProto.FLOAT)
    return g.build("unsupported_test", [])


# --------------------------------------------------------------------------

def format_expected(expected):
    """json with one detection per line (still plain JSON)."""
    lines = ["{"]
    models = list(expected.items())
    for mi, (name, e) in enumerate(models):
        lines.append("  %s: {" % json.dumps(name))
        for key in ("input_w", "input_h", "conf", "iou"):
            lines.append("    %s: %s," % (json.dumps(key), json.dumps(e[key])))
        lines.append('    "detections": [')
        dets = e["detections"]
        for di, d in enumerate(dets):
            lines.append("      " + json.dumps(d) + ("," if di + 1 < len(dets) else ""))
        lines.append("    ]")
        lines.append("  }" + ("," if mi + 1 < len(models) else ""))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == expected
    return text


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUT_DIR\n" % argv[0])
        return 2
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)

    expected = {}
    model, exp = build_yolov8(fp16=False)
    save(model, out_dir, "yolov8.onnx")
    expected["yolov8.onnx"] = exp

    model, exp = build_yolov8(fp16=True)
    save(model, out_dir, "yolov8_fp16.onnx")
    expected["yolov8_fp16.onnx"] = exp

    model, exp = build_yolov5()
    save(model, out_dir, "yolov5.onnx")
    expected["yolov5.onnx"] = exp

    model, exp = build_yolov10()
    save(model, out_dir, "yolov10.onnx")
    expected["yolov10.onnx"] = exp

    model, exp = build_nanodet()
    save(model, out_dir, "nanodet_small.onnx")
    expected["nanodet_small.onnx"] = exp

    save(build_unsupported(), out_dir, "unsupported.onnx")

    with open(os.path.join(out_dir, "not_a_model.onnx"), "w") as f:
        f.write("this is not an onnx model\n")

    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        f.write(format_expected(expected))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
