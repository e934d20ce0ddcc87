// vigil detect IMAGE_OR_DIR... : run the detector on still images.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "media/image_io.h"
#include "pipeline/detector.h"
#include "render/jpeg_encoder.h"
#include "render/overlay.h"

namespace vigil::cli {
namespace {

struct DetectArgs {
  std::vector<std::string> inputs;
  std::string model;
  float conf = 0.35F;
  float iou = 0.5F;
  int max_det = 100;
  std::string classes;
  std::string device;  // empty: $DEVICE, else auto
  std::string precision = "auto";
  int threads = 0;
  bool json = false;
  std::string out_dir;
  std::int64_t max_pixels = kDefaultMaxImagePixels;
  bool rectangular = true;
};

bool is_image_name(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* e : {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
    if (ext == e) return true;
  return false;
}

double round2(double v) { return std::round(v * 100.0) / 100.0; }
double round4(double v) { return std::round(v * 10000.0) / 10000.0; }

// Directories become their image files (sorted); named files stay as given.
// A directory that cannot be listed or holds no image is reported.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs,
                                       const std::function<void(const std::string&)>& report) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (!fs::is_directory(in, ec)) {
      files.push_back(in);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(in, ec))
      if (e.is_regular_file() && is_image_name(e.path())) found.push_back(e.path().string());
    if (ec) report(in + ": cannot list the directory: " + ec.message());
    std::sort(found.begin(), found.end());
    if (found.empty() && !ec) report(in + ": the directory holds no image files");
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

Result<std::unique_ptr<Detector>> open_detector(const DetectArgs& args) {
  auto choice = choose_model_for(args.model.empty() ? default_model_path() : args.model, args.precision, "--precision");
  if (!choice) return fail(choice.error());
  BackendOptions bo;
  bo.model_path = choice->path;
  bo.intra_threads = args.threads;
  bo.spin = true;  // the model runs alone here
  auto device = resolve_device(args.device, "auto");
  if (!device) return fail(device.error());
  auto provider = parse_execution_provider(*device);
  if (!provider) return fail(ErrorCode::kInvalidArgument, "--device: " + provider.error().message);
  bo.provider = *provider;
  return Detector::create(bo, DetectorOptions{.rectangular = args.rectangular});
}

Result<DecodeOptions> decode_options(const DetectArgs& args, const ModelInfo& info) {
  DecodeOptions opts;
  opts.conf = args.conf;
  opts.iou = args.iou;
  opts.max_det = args.max_det;
  auto mask = class_mask_from_names(info, split_list(args.classes));
  if (!mask) return fail(mask.error());
  opts.class_mask = std::move(*mask);
  return opts;
}

// One image's result as one JSON Lines object (--json).
nlohmann::json detections_json(const std::string& file, const Image& image, const std::vector<Detection>& dets,
                               const DetectTimings& t, const ModelInfo& info, InputSize input) {
  nlohmann::json j;
  j["file"] = file;
  j["width"] = image.width;
  j["height"] = image.height;
  j["input"] = {input.width, input.height};
  j["detections"] = nlohmann::json::array();
  for (const auto& d : dets)
    j["detections"].push_back({{"class", info.class_name(d.class_id)},
                               {"class_id", d.class_id},
                               {"score", round4(static_cast<double>(d.score))},
                               {"box", {round2(d.box.x1), round2(d.box.y1), round2(d.box.x2), round2(d.box.y2)}}});
  j["timings_ms"] = {{"preprocess", round2(t.preprocess_ms)},
                     {"inference", round2(t.inference_ms)},
                     {"postprocess", round2(t.postprocess_ms)}};
  return j;
}

// One image's result as a small table for people.
void print_detections(const std::string& file, const Image& image, const std::vector<Detection>& dets,
                      const DetectTimings& t, const ModelInfo& info) {
  std::printf("%s  %dx%d  %zu detection%s  (preprocess %.1f ms, inference %.1f ms, postprocess %.1f ms)\n",
              file.c_str(), image.width, image.height, dets.size(), dets.size() == 1 ? "" : "s", t.preprocess_ms,
              t.inference_ms, t.postprocess_ms);
  if (!dets.empty()) std::printf("  %-16s %6s %8s %8s %8s %8s\n", "class", "score", "x1", "y1", "x2", "y2");
  for (const auto& d : dets)
    std::printf("  %-16s %6.3f %8.1f %8.1f %8.1f %8.1f\n", info.class_name(d.class_id).c_str(),
                static_cast<double>(d.score), static_cast<double>(d.box.x1), static_cast<double>(d.box.y1),
                static_cast<double>(d.box.x2), static_cast<double>(d.box.y2));
  std::fflush(stdout);
}

// -o DIR: the image with its boxes, as DIR/STEM.jpg.
Result<void> write_annotated(Image& image, const std::vector<Detection>& dets, const ModelInfo& info,
                             const std::string& file, const std::string& out_dir) {
  namespace fs = std::filesystem;
  draw_detections(image, dets, info.class_names);
  const fs::path out = fs::path(out_dir) / (fs::path(file).stem().string() + ".jpg");
  return write_jpeg(out.string(), image);
}

// expand inputs -> open the detector -> per image: load, detect, print, draw.
int run_detect(const DetectArgs& args) {
  bool bad_input = false;
  auto report = [&](const std::string& msg) {
    std::cerr << "vigil detect: " << msg << "\n";
    bad_input = true;
  };
  const std::vector<std::string> files = expand_inputs(args.inputs, report);
  auto detector = open_detector(args);
  if (!detector) {
    std::cerr << "vigil detect: " << detector.error().message << "\n";
    return detector.error().code == ErrorCode::kRuntime ? kExitRuntime : kExitBadInput;
  }
  const ModelInfo& info = (*detector)->info();
  auto opts = decode_options(args, info);
  if (!opts) {
    std::cerr << "vigil detect: " << opts.error().message << "\n";
    return kExitBadInput;
  }
  if (!args.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.out_dir, ec);
    if (ec) {
      std::cerr << "vigil detect: -o " << args.out_dir << ": cannot create the directory: " << ec.message() << "\n";
      return kExitBadInput;
    }
  }
  for (const auto& file : files) {
    auto image = load_image(file, args.max_pixels);
    if (!image) {
      report(image.error().message);
      continue;
    }
    const Image* batch[] = {&*image};
    DetectTimings t;
    auto result = (*detector)->detect(batch, *opts, &t);
    if (!result) {
      std::cerr << "vigil detect: " << file << ": " << result.error().message << "\n";
      return kExitRuntime;
    }
    const auto& dets = (*result)[0];
    const InputSize input = (*detector)->input_size_for(image->width, image->height);
    if (args.json) std::cout << detections_json(file, *image, dets, t, info, input).dump() << "\n" << std::flush;
    else print_detections(file, *image, dets, t, info);
    if (!args.out_dir.empty())
      if (auto w = write_annotated(*image, dets, info, file, args.out_dir); !w) {
        std::cerr << "vigil detect: " << w.error().message << "\n";
        return kExitRuntime;
      }
  }
  return bad_input ? kExitBadInput : kExitOk;
}

}  // namespace

std::function<int()> add_detect_command(CLI::App& app) {
  auto args = std::make_shared<DetectArgs>();
  CLI::App* cmd = app.add_subcommand("detect", "Detect objects in images (files or directories of images)");
  cmd->add_option("inputs", args->inputs, "Image files or directories")->required();
  cmd->add_option("--model", args->model, "ONNX model (default: the embedded NanoDet-m 416; env MODEL_PATH)");
  cmd->add_option("--conf", args->conf, "Minimum score")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--iou", args->iou, "NMS IoU threshold")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-det", args->max_det, "Detections kept per image")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--classes", args->classes, "Keep only these classes, comma-separated (e.g. person,car)");
  cmd->add_option("--device", args->device, "Execution provider: auto|cpu|cuda|tensorrt (default: $DEVICE, else auto)");
  cmd->add_option("--precision", args->precision,
                  "auto|fp32|int8: the model or its INT8 copy <stem>-int8.onnx (docs/config.md, model.precision)")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Inference threads (0 = one per core)")->capture_default_str()->check(CLI::Range(0, 256));
  cmd->add_flag("--json", args->json, "JSON Lines on stdout, one object per image");
  cmd->add_option("--max-pixels", args->max_pixels,
                  "Refuse images whose header declares more pixels (width x height) than this, before decoding")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  cmd->add_option("-o,--output", args->out_dir, "Write annotated images (boxes + labels) into this directory");
  cmd->add_option("--rectangular", args->rectangular,
                  "Models with dynamic height/width: run each image at the smallest stride-multiple input that holds "
                  "its letterbox; false = the square input")
      ->capture_default_str();
  return [args]() { return run_detect(*args); };
}

}  // namespace vigil::cli
