// vigil calibrate: activation ranges for static INT8 quantization. Runs a
// model whose intermediate tensors are graph outputs (tools/quantize/
// qdq_int8.py augment writes it) on still images and frames of videos, with
// the detector's letterbox, and writes the min/max of every output as JSON
// (read by qdq_int8.py quantize). Single-threaded inference, inputs in the
// order given, so the same inputs give the same file.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "inference/activation_ranges.h"
#include "inference/backend.h"
#include "media/image_io.h"
#include "media/video_frame.h"
#include "media/video_source.h"

namespace vigil::cli {
namespace {

struct CalibrateArgs {
  std::string model;
  std::vector<std::string> images;
  std::vector<std::string> videos;
  int frames = 8;  // per video, spread evenly over its first `span` frames
  int span = 400;
  std::string out;
};

// Frames 0, span/frames, 2*span/frames... of the video, in order.
Result<int> add_video_frames(const std::string& path, const CalibrateArgs& a, ActivationRanges& ranges) {
  VideoSourceOptions vo;
  vo.url = path;
  vo.hwaccel = HwAccel::kNone;
  auto src = VideoSource::open(vo);
  if (!src) return fail(src.error());
  const int step = std::max(1, a.span / a.frames);
  FrameConverter conv;
  int taken = 0;
  for (int index = 0; taken < a.frames; ++index) {
    auto r = (*src)->read();
    if (!r) return fail(ErrorCode::kBadInput, "video " + path + ": " + r.error().message);
    if (!r->has_value()) break;
    if (index % step != 0) continue;
    auto img = conv.to_image(*(*r)->frame, PixelFormat::kBgr24);
    if (!img) return fail(ErrorCode::kBadInput, "video " + path + ": " + img.error().message);
    if (auto ok = ranges.add(*img); !ok) return fail(ok.error().code, "video " + path + ": " + ok.error().message);
    ++taken;
  }
  if (taken == 0) return fail(ErrorCode::kBadInput, "video " + path + ": no frame could be read");
  return taken;
}

nlohmann::json ranges_json(const CalibrateArgs& a, const ActivationRanges& ranges, const Backend& backend) {
  nlohmann::json tensors = nlohmann::json::object();
  for (const auto& [name, r] : ranges.ranges()) tensors[name] = {r.min, r.max};
  std::vector<std::string> inputs;
  for (const auto& p : a.images) inputs.push_back(std::filesystem::path(p).filename().string());
  for (const auto& p : a.videos)
    inputs.push_back(std::filesystem::path(p).filename().string() + " (" + std::to_string(a.frames) + " frames)");
  return {{"method", "minmax"},
          {"model", std::filesystem::path(a.model).filename().string()},
          {"input_size", {backend.info().input_w, backend.info().input_h}},
          {"images", ranges.images()},
          {"inputs", inputs},
          {"tensors", tensors}};
}

int run_calibrate(const CalibrateArgs& a) {
  const auto bad = [](const std::string& msg) {
    std::cerr << "vigil calibrate: " << msg << "\n";
    return kExitBadInput;
  };
  if (a.images.empty() && a.videos.empty()) return bad("no calibration input (--images or --video)");
  BackendOptions bo;
  bo.model_path = a.model;
  bo.provider = ExecutionProvider::kCpu;
  bo.intra_threads = 1;  // one thread: the same sums in the same order on every machine
  auto backend = Backend::open(bo);
  if (!backend) return bad(backend.error().message);
  ActivationRanges ranges(**backend);
  for (const auto& path : a.images) {
    auto img = load_image(path);
    if (!img) return bad("--images " + img.error().message);
    if (auto ok = ranges.add(*img); !ok) return bad("--images " + path + ": " + ok.error().message);
  }
  for (const auto& path : a.videos)
    if (auto n = add_video_frames(path, a, ranges); !n) return bad("--video " + n.error().message);
  std::ofstream f(a.out, std::ios::binary | std::ios::trunc);
  if (!f) return bad("--out " + a.out + ": cannot be written");
  f << ranges_json(a, ranges, **backend).dump(1) << "\n";
  if (!f.flush()) return bad("--out " + a.out + ": write failed");
  std::cerr << "vigil calibrate: " << ranges.ranges().size() << " tensors over " << ranges.images() << " images -> "
            << a.out << "\n";
  return kExitOk;
}

}  // namespace

std::function<int()> add_calibrate_command(CLI::App& app) {
  auto a = std::make_shared<CalibrateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate", "Activation ranges of a model's outputs over images and video frames (INT8 calibration)");
  cmd->add_option("--model", a->model, "ONNX model with the tensors to measure as outputs (qdq_int8.py augment)")
      ->required();
  cmd->add_option("--images", a->images, "Still images, in this order");
  cmd->add_option("--video", a->videos, "Videos: --frames frames of each");
  cmd->add_option("--frames", a->frames, "Frames per video")->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_option("--span", a->span, "Frames taken evenly from the first SPAN frames of each video")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("-o,--out", a->out, "JSON file: {tensors: {name: [min, max]}, ...}")->required();
  return [a] { return run_calibrate(*a); };
}

}  // namespace vigil::cli
