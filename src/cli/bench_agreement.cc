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
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/engine_config.h"
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

struct PathTotals {
  double ms = 0;
  std::int64_t detections = 0;
};

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

int run_agreement(const AgreementArgs& a) {
  auto setup = agreement_setup(a);
  if (!setup) {
    std::cerr << "vigil bench agreement: " << setup.error().message << "\n";
    return kExitBadInput;
  }
  auto fast_model = choose_model_file(setup->model.path, setup->model.precision);
  auto exact_model = choose_model_file(setup->model.path, ModelPrecision::kFp32);
  if (!fast_model || !exact_model) {
    std::cerr << "vigil bench agreement: " << (fast_model ? exact_model.error() : fast_model.error()).message << "\n";
    return kExitBadInput;
  }
  auto exact = open_detector(exact_model->path, setup->model, false);
  if (!exact) {
    std::cerr << "vigil bench agreement: " << exact.error().message << "\n";
    return kExitBadInput;
  }
  auto fast = open_detector(fast_model->path, setup->model, setup->model.rectangular);
  if (!fast) {
    std::cerr << "vigil bench agreement: " << fast.error().message << "\n";
    return kExitBadInput;
  }
  VideoSourceOptions vo;
  vo.url = a.video;
  vo.hwaccel = HwAccel::kNone;
  auto src = VideoSource::open(vo);
  if (!src) {
    std::cerr << "vigil bench agreement: " << src.error().message << "\n";
    return kExitBadInput;
  }
  const DecodeOptions exact_decode = decode_options(setup->stream, (*exact)->info());
  FastPath fast_path(**fast, *setup, (*fast)->info());
  FrameConverter conv;
  MatchCounts match;
  PathTotals exact_t, fast_t;
  FastCounts counts;
  std::int64_t decoded = 0, analysed = 0;
  while (analysed < a.frames) {
    auto r = (*src)->read();
    if (!r) {
      std::cerr << "vigil bench agreement: " << r.error().message << "\n";
      return kExitBadInput;
    }
    if (!r->has_value()) break;
    if (decoded++ % setup->every != 0) continue;
    const VideoFrame& vf = *(*r)->frame;
    const auto e0 = clock_type::now();
    auto img = conv.to_image(vf, PixelFormat::kBgr24);
    if (!img) continue;
    const Image* one[] = {&*img};
    auto e = (*exact)->detect(one, exact_decode);
    exact_t.ms += ms_since(e0);
    const auto f0 = clock_type::now();
    auto f = fast_path.run(vf, (*r)->pts, counts);
    fast_t.ms += ms_since(f0);
    if (!e || !f) {
      std::cerr << "vigil bench agreement: " << (e ? f.error() : e.error()).message << "\n";
      return kExitRuntime;
    }
    match += match_detections((*e)[0], *f, 0.5F, setup->stream.conf);  // the configured threshold (decode keeps lower scores for the tracker)
    ++analysed;
  }
  if (analysed == 0) {
    std::cerr << "vigil bench agreement: " << a.video << ": no frame decoded\n";
    return kExitBadInput;
  }
  const double n = static_cast<double>(analysed);
  const double exact_ms = exact_t.ms / n, fast_ms = fast_t.ms / n;
  const nlohmann::json out = {{"frames", analysed},
                              {"recall", match.recall()},
                              {"precision", match.precision()},
                              {"speedup", fast_ms > 0 ? exact_ms / fast_ms : 0.0},
                              {"exact_ms", exact_ms},
                              {"fast_ms", fast_ms},
                              {"exact_detections", match.reference},
                              {"fast_detections", match.candidate},
                              {"matched", match.matched},
                              {"fast_model", fast_model->path},
                              {"fast_precision", to_string(fast_model->precision)},
                              {"rectangular", (*fast)->rectangular()},
                              {"motion", motion_mode(setup->stream.motion)},
                              {"every", setup->every},
                              {"skipped", counts.skipped},
                              {"full_frames", counts.full},
                              {"crop_frames", counts.crops},
                              {"crop_images", counts.crop_images}};
  if (a.json) {
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  std::printf("frames %lld (every %d), fast: %s %s, motion %s\n", static_cast<long long>(analysed), setup->every,
              to_string(fast_model->precision), (*fast)->rectangular() ? "rectangular" : "square",
              motion_mode(setup->stream.motion));
  std::printf("recall %.3f  precision %.3f  (%lld exact, %lld fast, %lld matched)\n", match.recall(), match.precision(),
              static_cast<long long>(match.reference), static_cast<long long>(match.candidate),
              static_cast<long long>(match.matched));
  std::printf("exact %.2f ms/frame, fast %.2f ms/frame: %.2fx; fast frames: %lld full, %lld crops (%lld images), %lld skipped\n",
              exact_ms, fast_ms, out["speedup"].get<double>(), static_cast<long long>(counts.full),
              static_cast<long long>(counts.crops), static_cast<long long>(counts.crop_images),
              static_cast<long long>(counts.skipped));
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
