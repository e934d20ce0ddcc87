// vigil bench agreement VIDEO: how close the fast path's detections are to
// the exact path's, and how much faster it is (issue: capacity).
//   exact: the float32 model, square letterbox, the whole frame, every
//          analysed frame the same way;
//   fast:  the configured precision (model.precision), rectangular input
//          (model.rectangular) and motion regions (the stream's `motion`:
//          frames skipped without motion and tracks, crops around motion and
//          tracks), with a tracker for the active tracks, as a live stream.
// Both see the same frames: every `every`th decoded frame, `frames` of them.
// A fast detection agrees with an exact one of the same class with IoU >= 0.5
// (models/detection_match.h), both at or above the stream's score threshold.
// Times are the wall time per analysed frame of each path, one image per
// detector call (batch 1), inference threads as configured.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/engine_config.h"
#include "inference/backend.h"
#include "inference/model_choice.h"
#include "media/video_source.h"
#include "metrics/system_stats.h"
#include "models/detection_match.h"
#include "pipeline/analysis_stage.h"
#include "pipeline/batch_scheduler.h"
#include "pipeline/detector.h"
#include "pipeline/motion_regions.h"
#include "tracking/tracker.h"

namespace vigil::cli {
namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

struct AgreementArgs {
  std::string video;
  std::string config;
  std::string model;
  std::string precision;  // empty: the config's
  std::string motion;     // empty: the config's; off | skip | crops
  std::string rectangular;  // empty: the config's model.rectangular; true | false
  int frames = 200;
  int every = 0;  // 0: the config's stream every
  int threads = 0;
  bool json = false;
};

// The fast path's settings: the config's first stream (or its defaults), with the flags on top.
struct AgreementSetup {
  StreamConfig stream;
  ModelConfig model;
  int every = 4;
};

Result<AgreementSetup> agreement_setup(const AgreementArgs& a) {
  EngineConfig cfg;
  if (!a.config.empty()) {
    auto c = load_config_file(a.config);
    if (!c) return fail(c.error());
    cfg = std::move(*c);
  }
  AgreementSetup s;
  s.stream = cfg.streams.empty() ? cfg.defaults : cfg.streams.front();
  s.model = cfg.model;
  if (!a.model.empty()) s.model.path = a.model;
  if (s.model.path.empty()) s.model.path = default_model_path();
  if (!a.precision.empty()) {
    auto p = parse_model_precision(a.precision);
    if (!p) return fail(ErrorCode::kInvalidArgument, "--precision: " + p.error().message);
    s.model.precision = *p;
  }
  if (a.motion == "off") s.stream.motion.enabled = false;
  else if (a.motion == "skip" || a.motion == "crops") {
    s.stream.motion.enabled = true;
    s.stream.motion.crops = a.motion == "crops";
  } else if (!a.motion.empty())
    return fail(ErrorCode::kInvalidArgument, "--motion: '" + a.motion + "' is not one of off, skip, crops");
  if (a.rectangular == "true" || a.rectangular == "false") s.model.rectangular = a.rectangular == "true";
  else if (!a.rectangular.empty())
    return fail(ErrorCode::kInvalidArgument, "--rectangular: '" + a.rectangular + "' is not true or false");
  if (a.threads > 0) s.model.threads = a.threads;
  s.every = a.every > 0 ? a.every : s.stream.every;
  return s;
}

Result<std::unique_ptr<Detector>> open_detector(const std::string& path, const ModelConfig& m, bool rectangular) {
  BackendOptions bo;
  bo.model_path = path;
  bo.intra_threads = m.threads > 0 ? m.threads : usable_cores();
  bo.arena = m.arena;
  bo.spin = false;
  return Detector::create(bo, DetectorOptions{rectangular});
}

const char* motion_mode(const MotionConfig& m) { return !m.enabled ? "off" : m.crops ? "crops" : "skip"; }

struct FastCounts {
  std::int64_t skipped = 0, full = 0, crops = 0, crop_images = 0;
};

// The fast path over one frame: motion plan, the detector on the frame or its
// crops, boxes in full-frame pixels; the tracker learns the result.
class FastPath {
 public:
  FastPath(const Detector& det, const AgreementSetup& s, const ModelInfo& model)
      : det_(det), planner_(s.stream.motion), tracker_(s.stream.tracker, ids_), decode_(decode_options(s.stream, model)) {}

  Result<std::vector<Detection>> run(const VideoFrame& vf, double pts, FastCounts& counts) {
    const RegionPlan plan = planner_
                                .plan(vf.has_luma() ? vf.luma() : nullptr, vf.width(), vf.height(), vf.luma_stride(), pts,
                                      tracker_.predicted_boxes(pts), det_.input_size_for(vf.width(), vf.height()), 1.0)
                                .plan;
    std::vector<Detection> dets;
    if (plan.decision == RegionDecision::kSkip) {
      ++counts.skipped;
    } else {
      auto image = conv_.to_image(vf, PixelFormat::kBgr24);
      if (!image) return fail(image.error());
      BatchRequest q;
      q.frame_w = vf.width();
      q.frame_h = vf.height();
      q.image = std::make_shared<const Image>(std::move(*image));
      if (plan.decision == RegionDecision::kCrops)
        for (const Box& r : plan.regions) q.crops.push_back(cut_crop(*q.image, r, 1.0F, 1.0F));
      std::vector<const Image*> images;
      if (q.crops.empty()) images.push_back(q.image.get());
      for (const auto& c : q.crops) images.push_back(c.image.get());
      auto got = det_.detect(images, decode_);
      if (!got) return fail(got.error());
      dets = request_detections(q, *got, 0, got->size(), decode_);
      ++(q.crops.empty() ? counts.full : counts.crops);
      counts.crop_images += static_cast<std::int64_t>(q.crops.size());
    }
    (void)tracker_.update(dets, pts);  // only its active tracks matter here
    return dets;
  }

 private:
  const Detector& det_;
  MotionPlanner planner_;
  TrackIdAllocator ids_;
  Tracker tracker_;
  DecodeOptions decode_;
  FrameConverter conv_;
};

// The two detectors: float32 square (exact) and the configured one (fast).
struct Paths {
  std::unique_ptr<Detector> exact, fast;
  ModelChoice fast_model;
};

Result<Paths> open_paths(const AgreementSetup& s) {
  const bool gpu = device_uses_gpu(s.model.device);
  auto fast_model = choose_model_file(s.model.path, s.model.precision, cpu_features(), gpu);
  if (!fast_model) return fail(fast_model.error());
  auto exact_model = choose_model_file(s.model.path, ModelPrecision::kFp32, cpu_features(), gpu);
  if (!exact_model) return fail(exact_model.error());
  auto exact = open_detector(exact_model->path, s.model, false);
  if (!exact) return fail(exact.error());
  auto fast = open_detector(fast_model->path, s.model, s.model.rectangular);
  if (!fast) return fail(fast.error());
  return Paths{std::move(*exact), std::move(*fast), *fast_model};
}

struct Tally {
  std::int64_t frames = 0;
  double exact_ms = 0, fast_ms = 0;  // summed over the frames
  MatchCounts match;
  FastCounts counts;
};

// Both paths over every `every`th frame until `frames` were analysed (or the video ended).
Result<Tally> measure(VideoSource& src, Paths& paths, const AgreementSetup& s, int frames) {
  const DecodeOptions exact_decode = decode_options(s.stream, paths.exact->info());
  FastPath fast_path(*paths.fast, s, paths.fast->info());
  FrameConverter conv;
  Tally t;
  for (std::int64_t decoded = 0; t.frames < frames;) {
    auto r = src.read();
    if (!r) return fail(r.error());
    if (!r->has_value()) break;
    if (decoded++ % s.every != 0) continue;
    const VideoFrame& vf = *(*r)->frame;
    const auto e0 = clock_type::now();
    auto img = conv.to_image(vf, PixelFormat::kBgr24);
    if (!img) return fail(img.error());
    const Image* one[] = {&*img};
    auto e = paths.exact->detect(one, exact_decode);
    if (!e) return fail(e.error());
    t.exact_ms += ms_since(e0);
    const auto f0 = clock_type::now();
    auto f = fast_path.run(vf, (*r)->pts, t.counts);
    if (!f) return fail(f.error());
    t.fast_ms += ms_since(f0);
    // Scores from the configured threshold: decoding keeps lower ones for the tracker.
    t.match += match_detections((*e)[0], *f, 0.5F, s.stream.conf);
    ++t.frames;
  }
  return t;
}

nlohmann::json agreement_json(const Tally& t, const Paths& p, const AgreementSetup& s) {
  const double n = static_cast<double>(std::max<std::int64_t>(1, t.frames));
  const double exact_ms = t.exact_ms / n, fast_ms = t.fast_ms / n;
  return {{"frames", t.frames},
          {"recall", t.match.recall()},
          {"precision", t.match.precision()},
          {"speedup", fast_ms > 0 ? exact_ms / fast_ms : 0.0},
          {"exact_ms", exact_ms},
          {"fast_ms", fast_ms},
          {"exact_detections", t.match.reference},
          {"fast_detections", t.match.candidate},
          {"matched", t.match.matched},
          {"fast_model", p.fast_model.path},
          {"fast_precision", to_string(p.fast_model.precision)},
          {"rectangular", p.fast->rectangular()},
          {"motion", motion_mode(s.stream.motion)},
          {"every", s.every},
          {"skipped", t.counts.skipped},
          {"full_frames", t.counts.full},
          {"crop_frames", t.counts.crops},
          {"crop_images", t.counts.crop_images}};
}

void print_agreement(const nlohmann::json& j) {
  std::printf("frames %lld (every %d), fast: %s %s, motion %s\n", j["frames"].get<long long>(), j["every"].get<int>(),
              j["fast_precision"].get<std::string>().c_str(), j["rectangular"].get<bool>() ? "rectangular" : "square",
              j["motion"].get<std::string>().c_str());
  std::printf("recall %.3f  precision %.3f  (%lld exact, %lld fast, %lld matched)\n", j["recall"].get<double>(),
              j["precision"].get<double>(), j["exact_detections"].get<long long>(),
              j["fast_detections"].get<long long>(), j["matched"].get<long long>());
  std::printf("exact %.2f ms/frame, fast %.2f ms/frame: %.2fx; fast frames: %lld full, %lld crops (%lld images), %lld "
              "skipped\n",
              j["exact_ms"].get<double>(), j["fast_ms"].get<double>(), j["speedup"].get<double>(),
              j["full_frames"].get<long long>(), j["crop_frames"].get<long long>(), j["crop_images"].get<long long>(),
              j["skipped"].get<long long>());
}

int bad_input(const Error& e) {
  std::cerr << "vigil bench agreement: " << e.message << "\n";
  return kExitBadInput;
}

int run_agreement(const AgreementArgs& a) {
  auto setup = agreement_setup(a);
  if (!setup) return bad_input(setup.error());
  auto paths = open_paths(*setup);
  if (!paths) return bad_input(paths.error());
  VideoSourceOptions vo;
  vo.url = a.video;
  vo.hwaccel = HwAccel::kNone;
  auto src = VideoSource::open(vo);
  if (!src) return bad_input(src.error());
  auto tally = measure(**src, *paths, *setup, a.frames);
  if (!tally) return bad_input(tally.error());
  if (tally->frames == 0) return bad_input(Error{ErrorCode::kBadInput, a.video + ": no frame decoded"});
  const nlohmann::json out = agreement_json(*tally, *paths, *setup);
  if (a.json) std::cout << out.dump() << "\n";
  else print_agreement(out);
  return kExitOk;
}

}  // namespace

CLI::App* add_agreement_command(CLI::App& bench, std::function<int()>& run) {
  auto args = std::make_shared<AgreementArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "agreement", "Detections of the fast path (precision, rectangular input, motion regions) against the exact path");
  cmd->add_option("video", args->video, "Video file")->required();
  cmd->add_option("-c,--config", args->config, "Config file: model and the first stream's settings (motion, every...)");
  cmd->add_option("--model", args->model, "ONNX model (default: the config's, else the embedded NanoDet-m 416)");
  cmd->add_option("--precision", args->precision, "auto|fp32|int8 for the fast path (default: the config's)");
  cmd->add_option("--motion", args->motion, "off|skip|crops for the fast path (default: the config's motion)");
  cmd->add_option("--rectangular", args->rectangular,
                  "true|false: rectangular input for the fast path (default: the config's model.rectangular)");
  cmd->add_option("--frames", args->frames, "Analysed frames")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--every", args->every, "Analyse every Nth decoded frame (default: the stream's every)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--threads", args->threads, "Inference threads (default: the config's model.threads)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--json", args->json, "One JSON object");
  run = [args]() { return run_agreement(*args); };
  return cmd;
}

}  // namespace vigil::cli
