#include "inference/model_info.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

namespace vigil {
namespace {

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) os << ',';
    if (shape[i] < 0) os << '?';
    else os << shape[i];
  }
  os << ']';
  return os.str();
}

std::string outputs_str(const std::vector<TensorDesc>& outputs) {
  std::string s;
  for (const auto& o : outputs) {
    if (!s.empty()) s += ", ";
    s += o.name + " " + shape_str(o.shape);
  }
  return s;
}

std::vector<float> parse_floats(const std::string& text) {
  std::vector<float> out;
  std::string item;
  std::istringstream is(text);
  while (std::getline(is, item, ',')) {
    item.erase(std::remove_if(item.begin(), item.end(), [](char c) { return c == ' ' || c == '[' || c == ']'; }),
               item.end());
    if (item.empty()) continue;
    try {
      out.push_back(std::stof(item));
    } catch (...) {
      return {};
    }
  }
  return out;
}

const std::string* find_meta(const RawModelDescription& raw, const std::string& key) {
  auto it = raw.metadata.find(key);
  return it == raw.metadata.end() ? nullptr : &it->second;
}

}  // namespace

const char* to_string(ModelArch arch) {
  switch (arch) {
    case ModelArch::kNanoDet: return "nanodet";
    case ModelArch::kYoloV8: return "yolov8";
    case ModelArch::kYoloV5: return "yolov5";
    case ModelArch::kYoloEnd2End: return "yolo-end2end";
  }
  return "?";
}

Result<std::vector<std::string>> parse_class_names(const std::string& text) {
  std::vector<std::string> names;
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_discarded()) {
    if (json.is_array()) {
      for (const auto& n : json) {
        if (!n.is_string()) return fail(ErrorCode::kBadInput, "class names array holds a non-string");
        names.push_back(n.get<std::string>());
      }
      return names;
    }
    if (json.is_object()) {
      std::map<int, std::string> by_id;
      for (const auto& [k, v] : json.items()) {
        int id = -1;
        auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), id);
        if (ec != std::errc() || p != k.data() + k.size() || id < 0 || !v.is_string())
          return fail(ErrorCode::kBadInput, "class names object needs integer keys and string values");
        by_id[id] = v.get<std::string>();
      }
      for (const auto& [id, name] : by_id) {
        if (id != static_cast<int>(names.size()))
          return fail(ErrorCode::kBadInput, "class ids in names are not 0..N-1");
        names.push_back(name);
      }
      return names;
    }
  }
  // Python dict repr as written by Ultralytics: {0: 'person', 1: "it's"}
  std::map<int, std::string> by_id;
  std::size_t i = 0;
  auto skip = [&](const char* chars) {
    while (i < text.size() && std::strchr(chars, text[i]) != nullptr) ++i;
  };
  skip(" \t\n{");
  while (i < text.size() && text[i] != '}') {
    int id = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), id);
    if (ec != std::errc()) return fail(ErrorCode::kBadInput, "class names are neither JSON nor a {id: 'name'} dict");
    i = static_cast<std::size_t>(p - text.data());
    skip(" \t");
    if (i >= text.size() || text[i] != ':') return fail(ErrorCode::kBadInput, "class names: expected ':' after id");
    ++i;
    skip(" \t");
    if (i >= text.size() || (text[i] != '\'' && text[i] != '"'))
      return fail(ErrorCode::kBadInput, "class names: expected a quoted name");
    const char quote = text[i++];
    std::string name;
    while (i < text.size() && text[i] != quote) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      name += text[i++];
    }
    if (i >= text.size()) return fail(ErrorCode::kBadInput, "class names: unterminated name");
    ++i;
    by_id[id] = name;
    skip(" \t\n,");
  }
  if (by_id.empty()) return fail(ErrorCode::kBadInput, "class names are neither JSON nor a {id: 'name'} dict");
  for (const auto& [id, name] : by_id) {
    if (id != static_cast<int>(names.size())) return fail(ErrorCode::kBadInput, "class ids in names are not 0..N-1");
    names.push_back(name);
  }
  return names;
}

namespace {

constexpr float kMaxStride = 1024;  // beyond any detection model's output stride

// The size granularity of a dynamic-size model: vigil.stride, else
// Ultralytics' `stride` (an integer, or a list whose largest counts).
Result<void> read_stride(const RawModelDescription& raw, ModelInfo& info, const std::string& where) {
  const std::string* s = find_meta(raw, "vigil.stride");
  const char* key = "vigil.stride";
  if (!s) {
    s = find_meta(raw, "stride");
    key = "stride";
  }
  if (!s) return {};
  const auto v = parse_floats(*s);
  const float largest = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  if (largest < 1 || largest > kMaxStride || largest != std::floor(largest))
    return fail(ErrorCode::kBadInput, where + key + " needs a positive integer, got '" + *s + "'");
  info.stride = static_cast<int>(largest);
  return {};
}

// Step 1: the one image input: name, type, layout, size, batch.
Result<void> read_input(const RawModelDescription& raw, ModelInfo& info, const std::string& where) {
  if (raw.inputs.size() != 1)
    return fail(ErrorCode::kUnsupported,
                where + "expected exactly one image input, found " + std::to_string(raw.inputs.size()));
  const TensorDesc& in = raw.inputs[0];
  if (in.shape.size() != 4)
    return fail(ErrorCode::kUnsupported, where + "input '" + in.name + "' has shape " + shape_str(in.shape) +
                                             ", expected an image batch [B,3,H,W] or [B,H,W,3]");
  if (in.type == ElementType::kOther)
    return fail(ErrorCode::kUnsupported, where + "input '" + in.name + "' is neither float32 nor float16");
  info.input_name = in.name;
  info.input_type = in.type;

  if (const auto* l = find_meta(raw, "vigil.layout")) {
    info.layout = *l == "NHWC" ? TensorLayout::kNhwc : TensorLayout::kNchw;
  } else if (in.shape[1] == 3) {
    info.layout = TensorLayout::kNchw;
  } else if (in.shape[3] == 3) {
    info.layout = TensorLayout::kNhwc;
  } else {
    return fail(ErrorCode::kUnsupported,
                where + "input shape " + shape_str(in.shape) + " has no 3-channel dimension at position 1 or 3");
  }
  const std::int64_t h = info.layout == TensorLayout::kNchw ? in.shape[2] : in.shape[1];
  const std::int64_t w = info.layout == TensorLayout::kNchw ? in.shape[3] : in.shape[2];
  info.input_w = static_cast<int>(w);
  info.input_h = static_cast<int>(h);
  info.dynamic_hw = w <= 0 && h <= 0;
  if (w <= 0 || h <= 0) {
    // Dynamic spatial dims: take the size the model was exported for.
    std::vector<float> size;
    if (const auto* s = find_meta(raw, "vigil.input_size")) {
      size = parse_floats(*s);  // w,h
    } else if (const auto* s2 = find_meta(raw, "imgsz")) {
      size = parse_floats(*s2);  // Ultralytics: [h, w]
      if (size.size() == 2) std::swap(size[0], size[1]);
    }
    if (size.size() == 1) size.push_back(size[0]);
    if (size.size() != 2 || size[0] <= 0 || size[1] <= 0)
      return fail(ErrorCode::kUnsupported, where + "input '" + in.name + "' has dynamic size " + shape_str(in.shape) +
                                               " and no imgsz/vigil.input_size metadata");
    info.input_w = static_cast<int>(size[0]);
    info.input_h = static_cast<int>(size[1]);
  }
  info.dynamic_batch = in.shape[0] < 0;
  info.fixed_batch = info.dynamic_batch ? 1 : static_cast<int>(in.shape[0]);
  return read_stride(raw, info, where);
}

// Step 2: preprocessing: ours, else the Ultralytics convention (RGB, /255, pad 114).
Result<void> read_preprocessing(const RawModelDescription& raw, ModelInfo& info, const std::string& where) {
  if (const auto* c = find_meta(raw, "vigil.color")) info.color = *c == "BGR" ? ColorOrder::kBgr : ColorOrder::kRgb;
  if (const auto* m = find_meta(raw, "vigil.mean")) {
    auto v = parse_floats(*m);
    if (v.size() != 3) return fail(ErrorCode::kBadInput, where + "vigil.mean needs 3 numbers, got '" + *m + "'");
    std::copy(v.begin(), v.end(), info.mean.begin());
  }
  if (const auto* s = find_meta(raw, "vigil.std")) {
    auto v = parse_floats(*s);
    if (v.size() != 3 || std::any_of(v.begin(), v.end(), [](float x) { return x <= 0; }))
      return fail(ErrorCode::kBadInput, where + "vigil.std needs 3 positive numbers, got '" + *s + "'");
    std::copy(v.begin(), v.end(), info.std.begin());
  }
  return {};
}

// Step 3: class names (vigil.names, else Ultralytics' names) and the task.
Result<void> read_classes(const RawModelDescription& raw, ModelInfo& info, const std::string& where) {
  for (const char* key : {"vigil.names", "names"}) {
    const auto* n = find_meta(raw, key);
    if (!n) continue;
    auto names = parse_class_names(*n);
    if (!names) return fail(ErrorCode::kBadInput, where + key + ": " + names.error().message);
    info.class_names = std::move(*names);
    break;
  }
  if (const auto* task = find_meta(raw, "task"); task && *task != "detect")
    return fail(ErrorCode::kUnsupported,
                where + "Ultralytics task '" + *task + "' is not supported; export a detection model (task=detect)");
  return {};
}

void name_classes_by_number(ModelInfo& info, std::int64_t count) {
  for (std::int64_t c = 0; c < count; ++c) info.class_names.push_back("class" + std::to_string(c));
}

// One NanoDet head: its two outputs by name, their shapes checked.
Result<NanoDetHead> find_nanodet_head(const RawModelDescription& raw, ModelInfo& info, int stride,
                                      const std::string& where) {
  NanoDetHead head;
  head.stride = stride;
  for (std::size_t i = 0; i < raw.outputs.size(); ++i) {
    if (raw.outputs[i].name == "cls_pred_stride" + std::to_string(stride)) head.cls_output = static_cast<int>(i);
    if (raw.outputs[i].name == "dis_pred_stride" + std::to_string(stride)) head.dis_output = static_cast<int>(i);
  }
  if (stride <= 0 || head.cls_output < 0 || head.dis_output < 0)
    return fail(ErrorCode::kUnsupported, where + "NanoDet outputs cls_pred_stride" + std::to_string(stride) +
                                             "/dis_pred_stride" + std::to_string(stride) + " not found among " +
                                             outputs_str(raw.outputs));
  const auto& cls = raw.outputs[static_cast<std::size_t>(head.cls_output)].shape;
  const auto& dis = raw.outputs[static_cast<std::size_t>(head.dis_output)].shape;
  const std::int64_t cells =
      static_cast<std::int64_t>((info.input_w + stride - 1) / stride) * ((info.input_h + stride - 1) / stride);
  // A dynamic-size model reports its cell axes as dynamic (-1): they follow the input.
  const auto cells_ok = [&](std::int64_t n) { return n == cells || (info.dynamic_hw && n < 0); };
  if (cls.size() != 3 || dis.size() != 3 || !cells_ok(cls[1]) || !cells_ok(dis[1]) || dis[2] != 4 * (info.reg_max + 1))
    return fail(ErrorCode::kUnsupported, where + "NanoDet head at stride " + std::to_string(stride) +
                                             " has unexpected shapes " + outputs_str(raw.outputs));
  if (info.class_names.empty()) {
    name_classes_by_number(info, cls[2]);
  } else if (cls[2] != info.num_classes()) {
    return fail(ErrorCode::kBadInput, where + "NanoDet head has " + std::to_string(cls[2]) + " classes but " +
                                          std::to_string(info.num_classes()) + " names");
  }
  return head;
}

// Step 4a: our converted NanoDet (vigil.arch = nanodet): heads per stride.
Result<void> describe_nanodet(const RawModelDescription& raw, ModelInfo& info, const std::string& where) {
  info.arch = ModelArch::kNanoDet;
  const auto* rm = find_meta(raw, "vigil.reg_max");
  const auto* st = find_meta(raw, "vigil.strides");
  if (!rm || !st) return fail(ErrorCode::kBadInput, where + "NanoDet model lacks vigil.reg_max or vigil.strides");
  info.reg_max = std::atoi(rm->c_str());
  if (const auto* sc = find_meta(raw, "vigil.scores")) info.scores_are_logits = *sc == "logits";
  if (const auto* co = find_meta(raw, "vigil.center_offset")) info.center_offset = std::strtof(co->c_str(), nullptr);
  if (info.reg_max <= 0) return fail(ErrorCode::kBadInput, where + "vigil.reg_max must be positive");
  for (float sf : parse_floats(*st)) {
    auto head = find_nanodet_head(raw, info, static_cast<int>(sf), where);
    if (!head) return fail(head.error());
    info.heads.push_back(*head);
  }
  if (info.heads.empty()) return fail(ErrorCode::kBadInput, where + "vigil.strides is empty");
  if (!find_meta(raw, "vigil.stride")) {  // the coarsest head sets the size granularity
    info.stride = 0;
    for (const auto& h : info.heads) info.stride = std::max(info.stride, h.stride);
  }
  info.pad_value = 0;
  if (const auto* pv = find_meta(raw, "vigil.pad_value")) info.pad_value = std::strtof(pv->c_str(), nullptr);
  return {};
}

// Step 4b: the YOLO family, decided from the first output's shape (and the
// class count when the names are known).
Result<void> describe_yolo(const RawModelDescription& raw, ModelInfo& info, const std::string& where) {
  constexpr std::int64_t kEnd2EndColumns = 6;  // x1, y1, x2, y2, score, class
  constexpr std::int64_t kBoxValues = 4;       // YOLOv8/11: cx, cy, w, h before the class scores
  constexpr std::int64_t kBoxAndObjectness = 5;  // YOLOv5: box + objectness before the class scores
  const auto& out = raw.outputs[0].shape;
  const auto unsupported = [&]() -> Result<void> {
    return fail(ErrorCode::kUnsupported,
                where + "unsupported output layout " + outputs_str(raw.outputs) +
                    "; supported: NanoDet heads, YOLOv8/11 [B,4+C,N], YOLOv5 [B,N,5+C], YOLOv10/26 [B,K,6]");
  };
  if (out.size() != 3) return unsupported();
  const std::int64_t d1 = out[1], d2 = out[2];
  const std::int64_t known_c = info.num_classes();
  const auto* e2e = find_meta(raw, "end2end");
  const bool end2end_meta = e2e && (*e2e == "True" || *e2e == "true" || *e2e == "1");
  std::int64_t classes = 0;
  if (d2 == kEnd2EndColumns && (end2end_meta || known_c == 0 || d1 != kBoxValues + known_c)) {
    info.arch = ModelArch::kYoloEnd2End;
    classes = known_c;
  } else if (known_c > 0 && d1 == kBoxValues + known_c) {
    info.arch = ModelArch::kYoloV8;
    classes = known_c;
  } else if (known_c > 0 && d2 == kBoxAndObjectness + known_c) {
    info.arch = ModelArch::kYoloV5;
    classes = known_c;
  } else if (known_c == 0 && d1 > kBoxValues && (d2 < 0 || d1 < d2)) {
    info.arch = ModelArch::kYoloV8;
    classes = d1 - kBoxValues;
  } else if (known_c == 0 && d2 > kBoxAndObjectness && (d1 < 0 || d2 < d1)) {
    info.arch = ModelArch::kYoloV5;
    classes = d2 - kBoxAndObjectness;
  } else {
    return unsupported();
  }
  if (info.class_names.empty()) {
    if (classes <= 0)
      return fail(ErrorCode::kBadInput, where + "end-to-end output gives no class count and the model has no names");
    name_classes_by_number(info, classes);
  }
  return {};
}

}  // namespace

// input -> preprocessing -> classes -> the output decoder (NanoDet or YOLO).
Result<ModelInfo> describe_model(const RawModelDescription& raw) {
  const std::string where = "model " + raw.path + ": ";
  ModelInfo info;
  info.path = raw.path;
  info.metadata = raw.metadata;
  info.outputs = raw.outputs;
  if (auto r = read_input(raw, info, where); !r) return fail(r.error());
  if (auto r = read_preprocessing(raw, info, where); !r) return fail(r.error());
  if (auto r = read_classes(raw, info, where); !r) return fail(r.error());
  if (raw.outputs.empty()) return fail(ErrorCode::kUnsupported, where + "the graph has no outputs");
  const auto* arch = find_meta(raw, "vigil.arch");
  auto decoded = arch && *arch == "nanodet" ? describe_nanodet(raw, info, where) : describe_yolo(raw, info, where);
  if (!decoded) return fail(decoded.error());
  return info;
}

}  // namespace vigil
