#!/usr/bin/env node
// Reference runner for the ORIGINAL TF.js NanoDet graph model (pure JS, @tensorflow/tfjs CPU backend).
//
//   node tools/model_convert/reference.js raw --model third_party/human-models/nanodet.json \
//        --input IN.f32 --shape 4,3,416,416 --out-prefix PREFIX
//       Runs a raw little-endian float32 NCHW tensor, writes PREFIX.<onnx_output_name>.f32 for the six
//       outputs (cls_pred_stride{8,16,32} [N,HW,80], dis_pred_stride{8,16,32} [N,HW,44]) and PREFIX.json.
//       H and W may be other multiples of 32 up to 416 (e.g. 4,3,256,416): the graph's input shape is
//       relaxed and its four ResizeBilinear nodes, whose sizes are constants of the 416 graph, resize
//       by the same factors (x2, x0.5) instead (see sizedResize below).
//
//   node tools/model_convert/reference.js detect --model third_party/human-models/nanodet.json \
//        [--conf 0.35] [--iou 0.5] IMAGE.jpg...
//       Independent pure-JS pipeline (jpeg-js decode, letterbox, normalise, TF.js, GFL decode, NMS);
//       prints one JSON line per image.
//
//   node tools/model_convert/reference.js preprocess --out OUT.f32 IMAGE.jpg...
//       Writes the letterboxed/normalised [N,3,416,416] tensor that `detect` feeds to the model
//       (handy to feed the same input to ONNX Runtime); prints a JSON summary.
//
// Common options: --stock-kernels  use the unmodified TF.js CPU kernels (slow, ~4x) instead of the
//                                  faster pure-JS Conv2D/Transpose/PadV2 kernels registered below;
//                 --verbose         timings on stderr.
// detect/preprocess options: --color BGR|RGB (default BGR), --center-offset 0.5 (anchor centre =
//                 (col + offset) * stride; NanoDet v0.x GFL head convention), --conf, --iou.
//
// Modules are resolved from <repo>/third_party/node/node_modules (repo = two levels above this file),
// falling back to the normal NODE_PATH resolution.
'use strict';

const fs = require('fs');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..');
const NODE_MODULES = path.join(REPO, 'third_party', 'node', 'node_modules');

function load(mod) {
  try {
    return require(path.join(NODE_MODULES, mod));
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    return require(mod);
  }
}

// ---------------------------------------------------------------------------------------------
// Model constants (must match tfjs_to_onnx.py preset nanodet-m-416 / the ONNX metadata)
// ---------------------------------------------------------------------------------------------
const INPUT = 416;
const STRIDES = [8, 16, 32];
const REG_MAX = 10;
const NUM_CLASSES = 80;
const MEAN_BGR = [103.53, 116.28, 123.675];
const STD_BGR = [57.375, 57.12, 58.395];
// Letterbox fill (0..255 pixel value): 0 as NanoDet's own warp-resize (black border); --pad overrides.
let PAD_VALUE = 0;
const COCO80 = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
  'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
  'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite',
  'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant',
  'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone',
  'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
];

function die(msg, code = 2) {
  process.stderr.write(`reference.js: error: ${msg}\n`);
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------
// Faster pure-JS CPU kernels (same maths as the stock TF.js CPU kernels, different loop order).
// The stock Conv2D does a load+store of the output per MAC; this one keeps 2 pixels x 4 output
// channels in registers (~4x faster). Transpose/PadV2 replace per-element index<->coordinate
// conversions by strided loops. Unsupported cases fall back to the original kernels.
// ---------------------------------------------------------------------------------------------
function installFastKernels(tf) {
  const orig = {};
  for (const name of ['Conv2D', 'Transpose', 'PadV2']) {
    const k = tf.getKernel(name, 'cpu');
    if (!k) return false;
    orig[name] = k.kernelFunc;
  }
  const wCache = new WeakMap();

  function conv2d(args) {
    const { inputs, backend, attrs } = args;
    const { x, filter } = inputs;
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
    if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (dataFormat && dataFormat !== 'NHWC')) {
      return orig.Conv2D(args);
    }
    const ci = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, strides, dilations, pad,
      dimRoundingMode, false, 'channelsLast');
    if (ci.dilationHeight !== 1 || ci.dilationWidth !== 1 || ci.inChannels !== filter.shape[2]) {
      return orig.Conv2D(args);
    }
    const B = ci.batchSize, H = ci.inHeight, W = ci.inWidth, C = ci.inChannels, CO = ci.outChannels;
    const KH = ci.filterHeight, KW = ci.filterWidth, SH = ci.strideHeight, SW = ci.strideWidth;
    const PT = ci.padInfo.top, PL = ci.padInfo.left, OH = ci.outHeight, OW = ci.outWidth;
    const xv = backend.data.get(x.dataId).values;
    // weights HWIO -> [CO][KH*KW*C] (cached per weight tensor)
    let wt = wCache.get(filter.dataId);
    const KK = KH * KW * C;
    if (!wt) {
      const wv = backend.data.get(filter.dataId).values;
      wt = new Float32Array(CO * KK);
      for (let t = 0; t < KH * KW; t++) {
        for (let c = 0; c < C; c++) {
          const src = (t * C + c) * CO;
          for (let d = 0; d < CO; d++) wt[d * KK + t * C + c] = wv[src + d];
        }
      }
      wCache.set(filter.dataId, wt);
    }
    const y = new Float32Array(B * OH * OW * CO);
    const sx = SW * C;
    for (let b = 0; b < B; b++) {
      const xb = b * H * W * C;
      const yb = b * OH * OW * CO;
      for (let oy = 0; oy < OH; oy++) {
        const iy0 = oy * SH - PT;
        const ky0 = Math.max(0, -iy0), ky1 = Math.min(KH, H - iy0);
        let ox = 0;
        while (ox < OW) {
          const ix0 = ox * SW - PL;
          const kx0 = Math.max(0, -ix0), kx1 = Math.min(KW, W - ix0);
          const yo = yb + (oy * OW + ox) * CO;
          // two horizontally adjacent pixels, both with the full kernel width inside the image
          if (ox + 1 < OW && kx0 === 0 && kx1 === KW && ix0 + SW + KW <= W) {
            let d = 0;
            for (; d + 4 <= CO; d += 4) {
              let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
              const w0 = d * KK, w1 = w0 + KK, w2 = w1 + KK, w3 = w2 + KK;
              for (let ky = ky0; ky < ky1; ky++) {
                for (let kx = 0; kx < KW; kx++) {
                  const xo = xb + ((iy0 + ky) * W + ix0 + kx) * C;
                  const wo = (ky * KW + kx) * C;
                  for (let c = 0; c < C; c++) {
                    const p = xv[xo + c], q = xv[xo + sx + c];
                    const v0 = wt[w0 + wo + c], v1 = wt[w1 + wo + c], v2 = wt[w2 + wo + c], v3 = wt[w3 + wo + c];
                    a0 += p * v0; a1 += p * v1; a2 += p * v2; a3 += p * v3;
                    b0 += q * v0; b1 += q * v1; b2 += q * v2; b3 += q * v3;
                  }
                }
              }
              y[yo + d] = a0; y[yo + d + 1] = a1; y[yo + d + 2] = a2; y[yo + d + 3] = a3;
              const yo2 = yo + CO;
              y[yo2 + d] = b0; y[yo2 + d + 1] = b1; y[yo2 + d + 2] = b2; y[yo2 + d + 3] = b3;
            }
            for (; d < CO; d++) {
              let a = 0, bb = 0;
              const w0 = d * KK;
              for (let ky = ky0; ky < ky1; ky++) {
                for (let kx = 0; kx < KW; kx++) {
                  const xo = xb + ((iy0 + ky) * W + ix0 + kx) * C;
                  const wo = w0 + (ky * KW + kx) * C;
                  for (let c = 0; c < C; c++) { a += xv[xo + c] * wt[wo + c]; bb += xv[xo + sx + c] * wt[wo + c]; }
                }
              }
              y[yo + d] = a; y[yo + CO + d] = bb;
            }
            ox += 2;
          } else {
            for (let d = 0; d < CO; d++) {
              let a = 0;
              const w0 = d * KK;
              for (let ky = ky0; ky < ky1; ky++) {
                for (let kx = kx0; kx < kx1; kx++) {
                  const xo = xb + ((iy0 + ky) * W + ix0 + kx) * C;
                  const wo = w0 + (ky * KW + kx) * C;
                  for (let c = 0; c < C; c++) a += xv[xo + c] * wt[wo + c];
                }
              }
              y[yo + d] = a;
            }
            ox += 1;
          }
        }
      }
    }
    return backend.makeTensorInfo(ci.outShape, 'float32', y);
  }

  function pad4(shape) { return [1, 1, 1, 1].slice(shape.length).concat(shape); }

  function transpose(args) {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const perm = attrs.perm;
    const rank = x.shape.length;
    if (rank > 4 || x.dtype === 'string' || x.dtype === 'complex64') return orig.Transpose(args);
    const xv = backend.data.get(x.dataId).values;
    const s4 = pad4(x.shape);
    const off = 4 - rank;
    const p4 = [0, 1, 2, 3].slice(0, off).concat(perm.map(p => p + off));
    const st = [s4[1] * s4[2] * s4[3], s4[2] * s4[3], s4[3], 1];
    const os = p4.map(p => s4[p]);
    const is = p4.map(p => st[p]);
    const out = new xv.constructor(xv.length);
    let o = 0;
    for (let i0 = 0; i0 < os[0]; i0++) {
      const b0 = i0 * is[0];
      for (let i1 = 0; i1 < os[1]; i1++) {
        const b1 = b0 + i1 * is[1];
        for (let i2 = 0; i2 < os[2]; i2++) {
          const b2 = b1 + i2 * is[2];
          const s3 = is[3], n3 = os[3];
          for (let i3 = 0; i3 < n3; i3++) out[o++] = xv[b2 + i3 * s3];
        }
      }
    }
    return backend.makeTensorInfo(perm.map(p => x.shape[p]), x.dtype, out);
  }

  function padV2(args) {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const { paddings, constantValue } = attrs;
    const rank = x.shape.length;
    if (rank > 4 || x.dtype === 'string' || x.dtype === 'complex64') return orig.PadV2(args);
    const xv = backend.data.get(x.dataId).values;
    const s = pad4(x.shape);
    const pd = [[0, 0], [0, 0], [0, 0], [0, 0]].slice(rank).concat(paddings.map(p => [p[0], p[1]]));
    const o = s.map((v, i) => v + pd[i][0] + pd[i][1]);
    const out = new xv.constructor(o[0] * o[1] * o[2] * o[3]);
    if (constantValue !== 0) out.fill(constantValue);
    let src = 0;
    for (let i0 = 0; i0 < s[0]; i0++) {
      for (let i1 = 0; i1 < s[1]; i1++) {
        for (let i2 = 0; i2 < s[2]; i2++) {
          const dst = (((i0 + pd[0][0]) * o[1] + i1 + pd[1][0]) * o[2] + i2 + pd[2][0]) * o[3] + pd[3][0];
          out.set(xv.subarray(src, src + s[3]), dst);
          src += s[3];
        }
      }
    }
    return backend.makeTensorInfo(o.slice(4 - rank), x.dtype, out);
  }

  for (const [name, fn] of [['Conv2D', conv2d], ['Transpose', transpose], ['PadV2', padV2]]) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: fn });
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// TF.js model loading (custom IOHandler reading model.json + weight shards with fs, no fetch)
// ---------------------------------------------------------------------------------------------
function fileIOHandler(jsonPath, holder = {}, dynamicHW = false) {
  return {
    load: async () => {
      if (!fs.existsSync(jsonPath)) throw new Error(`model json '${jsonPath}' not found`);
      const j = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      holder.json = j;
      if (dynamicHW) {
        // The executor checks inputs against the placeholder's shape; -1 accepts any H and W.
        for (const n of j.modelTopology.node) {
          if (n.op !== 'Placeholder') continue;
          const dims = n.attr.shape.shape.dim;
          dims[2].size = '-1';
          dims[3].size = '-1';
        }
      }
      const dir = path.dirname(jsonPath);
      const specs = [];
      const bufs = [];
      for (const group of j.weightsManifest || []) {
        for (const p of group.paths) {
          const fp = path.join(dir, p);
          if (!fs.existsSync(fp)) throw new Error(`weight shard '${fp}' not found`);
          bufs.push(fs.readFileSync(fp));
        }
        specs.push(...group.weights);
      }
      const all = Buffer.concat(bufs);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return {
        modelTopology: j.modelTopology,
        weightSpecs: specs,
        weightData,
        format: j.format,
        generatedBy: j.generatedBy,
        convertedBy: j.convertedBy,
        signature: j.signature,
        userDefinedMetadata: j.userDefinedMetadata,
      };
    },
  };
}

async function initTf(opts) {
  const tf = load('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  await tf.ready();
  // the CPU backend prints an "install tfjs-node" banner on its first tensor write; skip it
  if (tf.backend() && tf.backend().firstUse === true) tf.backend().firstUse = false;
  if (!opts['stock-kernels']) {
    if (!installFastKernels(tf)) process.stderr.write('reference.js: warning: fast kernels not installed\n');
  }
  return tf;
}

// Runs of the graph at H x W other than 416 x 416: its ResizeBilinear sizes are constants of the
// 416 graph (13->26, 26->52 up; 52->26, 26->13 down). The kernel is wrapped to resize by the factor
// the node has at 416 (its constant size over the input it has there, 416 / the input's stride),
// which is what the converted ONNX graph's Resize scales do at any size.
function installSizedResize(tf, runH) {
  const orig = tf.getKernel('ResizeBilinear', 'cpu');
  if (!orig) die('no ResizeBilinear kernel to wrap');
  tf.unregisterKernel('ResizeBilinear', 'cpu');
  tf.registerKernel({
    kernelName: 'ResizeBilinear', backendName: 'cpu',
    kernelFunc: (args) => {
      const [, h, w] = args.inputs.images.shape;  // NHWC
      const nominalIn = INPUT / (runH / h);
      const factor = args.attrs.size[0] / nominalIn;
      const size = [Math.round(h * factor), Math.round(w * factor)];
      return orig.kernelFunc({ ...args, attrs: { ...args.attrs, size } });
    },
  });
}

async function loadModel(tf, modelPath, dynamicHW = false) {
  let model;
  const holder = {};
  try {
    model = await tf.loadGraphModel(fileIOHandler(path.resolve(modelPath), holder, dynamicHW));
  } catch (e) {
    die(`cannot load TF.js model '${modelPath}': ${e.message}`);
  }
  // Map TF output names -> ONNX output names by the signature shapes ([1, HW, C]: C = 80 -> cls,
  // 44 -> dis, HW -> stride).
  const outMap = [];
  const sig = (holder.json.signature || {}).outputs || {};
  for (const tfName of model.outputNodes) {
    const s = sig[tfName] || sig[tfName.replace(/:0$/, '')];
    if (!s) die(`output ${tfName} has no signature entry`);
    const [, n, c] = s.tensorShape.dim.map(d => Number(d.size));
    const o = { name: tfName, shape: [1, n, c] };
    const stride = STRIDES.find(s => (INPUT / s) * (INPUT / s) === n);
    if (!stride || (c !== NUM_CLASSES && c !== 4 * (REG_MAX + 1))) die(`unexpected output ${o.name} ${o.shape}`);
    outMap.push({ tfName: o.name, name: `${c === NUM_CLASSES ? 'cls' : 'dis'}_pred_stride${stride}`, n, c, stride });
  }
  const order = ['cls', 'dis'].flatMap(k => STRIDES.map(s => `${k}_pred_stride${s}`));
  outMap.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return { model, outMap };
}

// Runs a [N,3,H,W] Float32Array (416 x 416 unless given). The TF.js graph hard-codes batch 1 (input
// signature [1,3,416,416] and Reshape targets [1,80,-1] / [1,44,-1]), so each batch slice is
// executed separately and the outputs are concatenated along dim 0.
function runModel(tf, m, data, batch, H = INPUT, W = INPUT) {
  const per = 3 * H * W;
  const outs = m.outMap.map(o => {
    const n = (H / o.stride) * (W / o.stride);
    return { ...o, n, data: new Float32Array(batch * n * o.c) };
  });
  const times = [];
  for (let b = 0; b < batch; b++) {
    const t0 = process.hrtime.bigint();
    const x = tf.tensor4d(data.subarray(b * per, (b + 1) * per), [1, 3, H, W], 'float32');
    const res = m.model.execute(x, m.outMap.map(o => o.tfName));
    const arr = Array.isArray(res) ? res : [res];
    arr.forEach((t, i) => {
      const v = t.dataSync();
      if (v.length !== outs[i].n * outs[i].c) die(`output ${outs[i].tfName} has ${v.length} values`);
      outs[i].data.set(v, b * v.length);
    });
    tf.dispose([x, ...arr]);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { outs, times };
}

// ---------------------------------------------------------------------------------------------
// Image pre-processing (letterbox like the C++ pipeline: cv::resize INTER_LINEAR, centred, pad PAD_VALUE)
// ---------------------------------------------------------------------------------------------
function decodeJpeg(file) {
  const jpeg = load('jpeg-js');
  let buf;
  try { buf = fs.readFileSync(file); } catch (e) { die(`cannot read '${file}': ${e.message}`); }
  const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048 });
  return { width: img.width, height: img.height, rgb: img.data };
}

// Bilinear resize of an interleaved RGB uint8 image with half-pixel centres (OpenCV INTER_LINEAR
// geometry: src = (dst + 0.5) * in/out - 0.5, clamped at the borders); result rounded to uint8.
function resizeBilinear(src, w, h, nw, nh) {
  const out = new Uint8Array(nw * nh * 3);
  const sx = w / nw, sy = h / nh;
  const xi = new Int32Array(nw * 2), xf = new Float32Array(nw);
  for (let x = 0; x < nw; x++) {
    let fx = (x + 0.5) * sx - 0.5;
    let x0 = Math.floor(fx);
    fx -= x0;
    if (x0 < 0) { x0 = 0; fx = 0; }
    if (x0 >= w - 1) { x0 = w - 1; fx = 0; }
    xi[2 * x] = x0; xi[2 * x + 1] = Math.min(x0 + 1, w - 1); xf[x] = fx;
  }
  for (let y = 0; y < nh; y++) {
    let fy = (y + 0.5) * sy - 0.5;
    let y0 = Math.floor(fy);
    fy -= y0;
    if (y0 < 0) { y0 = 0; fy = 0; }
    if (y0 >= h - 1) { y0 = h - 1; fy = 0; }
    const y1 = Math.min(y0 + 1, h - 1);
    const r0 = y0 * w * 3, r1 = y1 * w * 3;
    for (let x = 0; x < nw; x++) {
      const a = xi[2 * x] * 3, b = xi[2 * x + 1] * 3, f = xf[x];
      for (let c = 0; c < 3; c++) {
        const top = src[r0 + a + c] * (1 - f) + src[r0 + b + c] * f;
        const bot = src[r1 + a + c] * (1 - f) + src[r1 + b + c] * f;
        out[(y * nw + x) * 3 + c] = Math.round(top * (1 - fy) + bot * fy);
      }
    }
  }
  return out;
}

function letterbox(img) {
  const { width: w, height: h } = img;
  const scale = Math.min(INPUT / w, INPUT / h);
  const nw = Math.round(w * scale), nh = Math.round(h * scale);
  const padX = Math.floor((INPUT - nw) / 2), padY = Math.floor((INPUT - nh) / 2);
  const rs = resizeBilinear(img.rgb, w, h, nw, nh);
  const canvas = new Uint8Array(INPUT * INPUT * 3).fill(PAD_VALUE);
  for (let y = 0; y < nh; y++) {
    canvas.set(rs.subarray(y * nw * 3, (y + 1) * nw * 3), ((y + padY) * INPUT + padX) * 3);
  }
  return { canvas, scale, padX, padY, nw, nh };
}

// canvas (RGB interleaved) -> NCHW float32 in `color` channel order, (v - mean) / std.
function normalize(canvas, color, out, offset = 0) {
  const order = color === 'RGB' ? [0, 1, 2] : [2, 1, 0]; // source RGB channel for output channel k
  const mean = color === 'RGB' ? MEAN_BGR.slice().reverse() : MEAN_BGR;
  const std = color === 'RGB' ? STD_BGR.slice().reverse() : STD_BGR;
  const hw = INPUT * INPUT;
  for (let k = 0; k < 3; k++) {
    const sc = order[k], m = mean[k], s = std[k], base = offset + k * hw;
    for (let i = 0; i < hw; i++) out[base + i] = (canvas[i * 3 + sc] - m) / s;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// NanoDet GFL decode + NMS
// ---------------------------------------------------------------------------------------------
function decode(outs, b, opts) {
  const conf = opts.conf, off = opts.centerOffset;
  const cand = [];
  const bins = REG_MAX + 1;
  const p = new Float64Array(bins);
  for (const stride of STRIDES) {
    const cls = outs.find(o => o.name === `cls_pred_stride${stride}`);
    const dis = outs.find(o => o.name === `dis_pred_stride${stride}`);
    const n = cls.n, g = INPUT / stride;
    const cv = cls.data.subarray(b * n * NUM_CLASSES, (b + 1) * n * NUM_CLASSES);
    const dv = dis.data.subarray(b * n * 4 * bins, (b + 1) * n * 4 * bins);
    for (let i = 0; i < n; i++) {
      let best = -1, bs = -Infinity;
      for (let c = 0; c < NUM_CLASSES; c++) {
        const s = cv[i * NUM_CLASSES + c];
        if (s > bs) { bs = s; best = c; }
      }
      if (bs < conf) continue;
      const row = Math.floor(i / g), col = i % g;
      const cx = (col + off) * stride, cy = (row + off) * stride;
      const dist = [0, 0, 0, 0];
      for (let side = 0; side < 4; side++) {
        const base = i * 4 * bins + side * bins;
        let mx = -Infinity;
        for (let k = 0; k < bins; k++) mx = Math.max(mx, dv[base + k]);
        let sum = 0;
        for (let k = 0; k < bins; k++) { p[k] = Math.exp(dv[base + k] - mx); sum += p[k]; }
        let e = 0;
        for (let k = 0; k < bins; k++) e += (p[k] / sum) * k;
        dist[side] = e * stride;
      }
      const clampI = v => Math.min(Math.max(v, 0), INPUT);
      cand.push({
        class_id: best, score: bs, stride,
        box: [clampI(cx - dist[0]), clampI(cy - dist[1]), clampI(cx + dist[2]), clampI(cy + dist[3])],
      });
    }
  }
  return cand;
}

function iou(a, b) {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return u > 0 ? inter / u : 0;
}

function nms(cand, thr) {
  cand.sort((a, b) => b.score - a.score || a.class_id - b.class_id);
  const keep = [];
  for (const c of cand) {
    if (keep.every(k => k.class_id !== c.class_id || iou(k.box, c.box) <= thr)) keep.push(c);
  }
  return keep;
}

function toSource(dets, lb, w, h) {
  const r2 = v => Math.round(v * 100) / 100;
  return dets.map(d => {
    const [x1, y1, x2, y2] = d.box;
    const mx = v => r2(Math.min(Math.max((v - lb.padX) / lb.scale, 0), w));
    const my = v => r2(Math.min(Math.max((v - lb.padY) / lb.scale, 0), h));
    return {
      class: COCO80[d.class_id], class_id: d.class_id, score: Math.round(d.score * 1e4) / 1e4,
      box: [mx(x1), my(y1), mx(x2), my(y2)],
    };
  });
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------
function parseArgs(argv) {
  const flags = new Set(['stock-kernels', 'verbose']);
  const opts = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const k = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (flags.has(k)) { opts[k] = true; continue; }
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) die(`option --${k} needs a value`);
      opts[k] = v;
    } else {
      opts._.push(a);
    }
  }
  return opts;
}

const USAGE = `usage:
  node tools/model_convert/reference.js raw --model M.json --input IN.f32 --shape N,3,416,416 --out-prefix P
  node tools/model_convert/reference.js detect --model M.json [--conf 0.35] [--iou 0.5] IMAGE.jpg...
  node tools/model_convert/reference.js preprocess --out OUT.f32 IMAGE.jpg...
options: --stock-kernels --verbose --color BGR|RGB --center-offset 0.5 --pad 0`;

async function cmdRaw(opts) {
  for (const k of ['model', 'input', 'shape', 'out-prefix']) if (!opts[k]) die(`raw: --${k} is required\n${USAGE}`);
  const shape = opts.shape.split(',').map(Number);
  const sizeOk = (v) => Number.isInteger(v) && v > 0 && v <= INPUT && v % 32 === 0;
  if (shape.length !== 4 || shape[1] !== 3 || !sizeOk(shape[2]) || !sizeOk(shape[3]) || !(shape[0] >= 1)) {
    die(`raw: --shape must be N,3,H,W with H and W multiples of 32 up to ${INPUT} (e.g. 1,3,${INPUT},${INPUT})`);
  }
  const [, , H, W] = shape;
  const square = H === INPUT && W === INPUT;
  let buf;
  try { buf = fs.readFileSync(opts.input); } catch (e) { die(`cannot read '${opts.input}': ${e.message}`); }
  const count = shape.reduce((a, b) => a * b, 1);
  if (buf.length !== count * 4) die(`raw: '${opts.input}' has ${buf.length} bytes, expected ${count * 4}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(i * 4);
  const tf = await initTf(opts);
  if (!square) installSizedResize(tf, H);
  const m = await loadModel(tf, opts.model, !square);
  const { outs, times } = runModel(tf, m, data, shape[0], H, W);
  const prefix = opts['out-prefix'];
  fs.mkdirSync(path.dirname(path.resolve(prefix)), { recursive: true });
  const meta = { outputs: [] };
  for (const o of outs) {
    const file = `${prefix}.${o.name}.f32`;
    const b = Buffer.alloc(o.data.length * 4);
    for (let i = 0; i < o.data.length; i++) b.writeFloatLE(o.data[i], i * 4);
    fs.writeFileSync(file, b);
    meta.outputs.push({ name: o.name, shape: [shape[0], o.n, o.c], file, tf_name: o.tfName });
  }
  meta.per_image_ms = times.map(t => Math.round(t));
  fs.writeFileSync(`${prefix}.json`, JSON.stringify(meta, null, 1) + '\n');
  if (opts.verbose) process.stderr.write(`raw: batch ${shape[0]} per-image ms ${meta.per_image_ms.join(',')}\n`);
}

function preprocessFiles(files, color) {
  const data = new Float32Array(files.length * 3 * INPUT * INPUT);
  const infos = files.map((f, i) => {
    const img = decodeJpeg(f);
    const lb = letterbox(img);
    normalize(lb.canvas, color, data, i * 3 * INPUT * INPUT);
    return { file: f, width: img.width, height: img.height, lb };
  });
  return { data, infos };
}

function colorOpt(opts) {
  const c = (opts.color || 'BGR').toUpperCase();
  if (c !== 'BGR' && c !== 'RGB') die('--color must be BGR or RGB');
  return c;
}

async function cmdDetect(opts) {
  if (!opts.model) die(`detect: --model is required\n${USAGE}`);
  if (!opts._.length) die(`detect: no images given\n${USAGE}`);
  const conf = opts.conf !== undefined ? Number(opts.conf) : 0.35;
  const iouThr = opts.iou !== undefined ? Number(opts.iou) : 0.5;
  const centerOffset = opts['center-offset'] !== undefined ? Number(opts['center-offset']) : 0.5;
  const color = colorOpt(opts);
  for (const f of opts._) if (!fs.existsSync(f)) die(`image '${f}' not found`);
  const tf = await initTf(opts);
  const m = await loadModel(tf, opts.model);
  for (const f of opts._) {
    const t0 = process.hrtime.bigint();
    const { data, infos } = preprocessFiles([f], color);
    const t1 = process.hrtime.bigint();
    const { outs } = runModel(tf, m, data, 1);
    const t2 = process.hrtime.bigint();
    const info = infos[0];
    const dets = nms(decode(outs, 0, { conf, centerOffset }), iouThr);
    const res = { file: f, width: info.width, height: info.height, detections: toSource(dets, info.lb, info.width, info.height) };
    process.stdout.write(JSON.stringify(res) + '\n');
    if (opts.verbose) {
      process.stderr.write(`detect: ${f}: preprocess ${(Number(t1 - t0) / 1e6).toFixed(0)} ms, ` +
        `infer ${(Number(t2 - t1) / 1e6).toFixed(0)} ms\n`);
    }
  }
}

async function cmdPreprocess(opts) {
  if (!opts.out || !opts._.length) die(`preprocess: --out and images are required\n${USAGE}`);
  const { data, infos } = preprocessFiles(opts._, colorOpt(opts));
  const b = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) b.writeFloatLE(data[i], i * 4);
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  fs.writeFileSync(opts.out, b);
  process.stdout.write(JSON.stringify({
    file: opts.out, shape: [infos.length, 3, INPUT, INPUT], color: colorOpt(opts),
    images: infos.map(i => ({ file: i.file, width: i.width, height: i.height, scale: i.lb.scale, pad_x: i.lb.padX, pad_y: i.lb.padY })),
  }) + '\n');
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  const opts = parseArgs(rest);
  if (opts.pad !== undefined) PAD_VALUE = Number(opts.pad);
  if (cmd === 'raw') return cmdRaw(opts);
  if (cmd === 'detect') return cmdDetect(opts);
  if (cmd === 'preprocess') return cmdPreprocess(opts);
  die(`unknown command '${cmd || ''}'\n${USAGE}`);
}

if (require.main === module) {
  main().catch(e => die(e && e.stack ? e.stack : String(e), 1));
}

module.exports = {
  initTf, loadModel, runModel, decodeJpeg, letterbox, normalize, decode, nms, toSource, iou,
  INPUT, STRIDES, REG_MAX, COCO80,
};
