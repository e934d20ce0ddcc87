// Which model file runs for a `model.precision` (auto | fp32 | int8): the
// float32 model the user named, or its INT8 copy beside it, named
// "<stem>-int8.onnx" (tools/quantize writes it; `make build` makes the
// default model's). The rule of auto is written out in choose_model_file().
// Pure apart from one existence check of the INT8 file; no threads.
#pragma once

#include <string>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/model_precision.h"

namespace vigil {

struct ModelChoice {
  std::string path;                                // the file to load
  ModelPrecision precision = ModelPrecision::kFp32;  // kFp32 or kInt8, never kAuto (an FP16 file: kFp32)
  std::string reason;                              // why this file, for the start-up log
  ModelFileFormat format = ModelFileFormat::kFp32;  // of the file chosen (its name)
};

// "models/nanodet-m-416.onnx" -> "models/nanodet-m-416-int8.onnx".
std::string int8_model_path(const std::string& fp32_path);

// True for a file named like an INT8 copy ("...-int8.onnx").
bool is_int8_model_name(const std::string& path);

// fp32: `model_path` as given. int8: its INT8 copy, kNotFound when that file
// is missing (the message names it and how to make it). auto: the INT8 copy
// when it exists and the CPU has VNNI (AVX512-VNNI or AVX-VNNI: int8 dot
// products without the saturation of the older AVX2/AVX-512BW path; measured
// 2x faster than float32 there, docs/performance.md), else fp32. A model
// named like an INT8 copy runs as given for auto and int8; fp32 then is an
// error.
// `gpu`: the model runs on a GPU provider (CUDA, TensorRT); auto then keeps
// float32 (the QDQ copy is made for CPUs; TensorRT builds its own FP16/INT8
// engines from the float32 graph, model.trt_fp16 / trt_int8).
//
// A folder (MODEL_PATH=./models/, Verolux's habit): the fastest .onnx in it
// for the device, by model_file_format(): on a CPU the INT8 copy when the CPU
// has VNNI, else FP32, else FP16 (ONNX Runtime's CPU provider runs FP16
// slower than FP32), else INT8; on a GPU provider FP16, else FP32, else
// INT8. int8 takes the INT8 file; fp32 (the default) the same order
// without INT8 files (float precision: FP16 or FP32); kNotFound naming the
// folder when it has no such file. Several files of one format: the first by name. A
// folder without .onnx files is kNotFound naming it.
Result<ModelChoice> choose_model_file(const std::string& model_path, ModelPrecision requested,
                                      const CpuFeatures& cpu = cpu_features(), bool gpu = false);

}  // namespace vigil
