// ModelInfo: what Vigil needs to know about a detection model, read from the
// ONNX file itself (graph inputs/outputs and metadata_props).
//
// Two metadata dialects are understood:
//  - ours (written by tools/model_convert): vigil.arch, vigil.input_size,
//    vigil.layout, vigil.color, vigil.mean, vigil.std, vigil.strides,
//    vigil.stride, vigil.reg_max, vigil.center_offset, vigil.pad_value,
//    vigil.scores, vigil.names;
//  - Ultralytics exports (`yolo export format=onnx`): names (a Python dict
//    repr), imgsz, stride, task, end2end.
// A model whose input height and width are dynamic (-1 / symbolic, e.g. our
// NanoDet or an Ultralytics `dynamic=True` export) runs at any multiple of
// its stride up to its nominal size (input_w x input_h); a fixed-size model
// only at its fixed size.
// describe_model() is pure: it turns the raw graph description into a
// ModelInfo or an error naming the model and the problem.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/class_name.h"
#include "core/error.h"

namespace vigil {

enum class ElementType { kFloat32, kFloat16, kOther };
enum class TensorLayout { kNchw, kNhwc };
enum class ColorOrder { kRgb, kBgr };

// Which output decoder a model needs (chosen from output shapes + metadata).
enum class ModelArch {
  kNanoDet,      // per-stride cls [B,N,C] + GFL distance distributions [B,N,4*(reg_max+1)]
  kYoloV8,       // [B,4+C,N]: cx,cy,w,h then class scores (YOLOv8/YOLO11)
  kYoloV5,       // [B,N,5+C]: cx,cy,w,h,objectness then class scores
  kYoloEnd2End,  // [B,K,6]: x1,y1,x2,y2,score,class (YOLOv10/YOLO26), no NMS needed
};

const char* to_string(ModelArch arch);

// A model input size in pixels (width x height), ordered for use as a key.
struct InputSize {
  int width = 0;
  int height = 0;
  auto operator<=>(const InputSize&) const = default;
};

struct TensorDesc {
  std::string name;
  std::vector<std::int64_t> shape;  // -1 for a dynamic dimension
  ElementType type = ElementType::kFloat32;
};

// The graph as ONNX Runtime reports it; filled by Backend.
struct RawModelDescription {
  std::string path;
  std::vector<TensorDesc> inputs;
  std::vector<TensorDesc> outputs;
  std::map<std::string, std::string> metadata;
};

struct NanoDetHead {
  int stride = 0;
  int cls_output = -1;  // index into ModelInfo::outputs
  int dis_output = -1;
};

struct ModelInfo {
  std::string path;
  std::string input_name;
  ElementType input_type = ElementType::kFloat32;
  TensorLayout layout = TensorLayout::kNchw;
  int input_w = 0;  // nominal (fixed, or the exported size when dynamic): letterbox scale and largest input
  int input_h = 0;
  // Height and width are dynamic: any multiple of `stride` up to input_w x input_h runs.
  bool dynamic_hw = false;
  // Sizes must be multiples of this: vigil.stride, NanoDet's largest stride,
  // Ultralytics' `stride`, else 32.
  int stride = 32;
  bool dynamic_batch = false;
  int fixed_batch = 1;  // batch size when !dynamic_batch
  ColorOrder color = ColorOrder::kRgb;
  std::array<float, 3> mean{0, 0, 0};  // subtracted from 0..255 values, in `color` order
  std::array<float, 3> std{255, 255, 255};
  float pad_value = 114;  // letterbox fill, 0..255
  std::vector<std::string> class_names;
  ModelArch arch = ModelArch::kYoloV8;
  std::vector<TensorDesc> outputs;
  // NanoDet only
  int reg_max = 0;
  float center_offset = 0;  // anchor point = (col + offset, row + offset) * stride
  bool scores_are_logits = false;
  std::vector<NanoDetHead> heads;
  std::map<std::string, std::string> metadata;

  int num_classes() const { return static_cast<int>(class_names.size()); }
  InputSize input_size() const { return {input_w, input_h}; }
  // The one class-name lookup (core/class_name.h): class_names[class_id], or
  // the decimal id for an id the model does not name.
  std::string class_name(int class_id) const { return vigil::class_name(class_names, class_id); }
};

Result<ModelInfo> describe_model(const RawModelDescription& raw);

// Parses an Ultralytics `names` value: "{0: 'person', 1: 'car'}" (also
// accepts a JSON array or JSON object). Exposed for tests.
Result<std::vector<std::string>> parse_class_names(const std::string& text);

}  // namespace vigil
