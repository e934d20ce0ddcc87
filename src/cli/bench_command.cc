// vigil bench model: latency and throughput of preprocess, inference and
// postprocess per batch size and thread count, on a 720p frame, at the
// rectangular input the engine picks for it or (--input square) the square one.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <cmath>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "cli/commands.h"
#include "media/image_io.h"
#include "metrics/latency_summary.h"
#include "media/video_source.h"
#include "pipeline/detector.h"
#include "tracking/tracker.h"

namespace vigil::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::string batches = "1,2,4,8";
  std::string threads = "1,2";
  std::string image = "/usr/share/darknet/data/dog.jpg";
  int width = 1280, height = 720;
  int iterations = 30;
  int warmup = 3;
  std::string device;  // empty: $DEVICE, else cpu
  std::string precisions = "fp32";
  bool spin = false;
  bool json = false;
  std::string input = "rect";  // rect: the engine's choice for the frame; square: the nominal input
};

Result<std::vector<int>> parse_ints(const std::string& flag, const std::string& s) {
  std::vector<int> out;
  std::string item;
  std::istringstream is(s);
  while (std::getline(is, item, ',')) {
    try {
      std::size_t used = 0;
      const int v = std::stoi(item, &used);
      if (used != item.size() || v <= 0) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (...) {
      return fail(ErrorCode::kInvalidArgument, flag + ": '" + item + "' is not a positive integer");
    }
  }
  if (out.empty()) return fail(ErrorCode::kInvalidArgument, flag + ": empty list");
  return out;
}

// The benchmark frame: a real photo scaled to width x height (aspect ignored).
Result<Image> bench_frame(const BenchArgs& a) {
  auto src = load_image(a.image);
  if (!src) return fail(src.error());
  Image out(PixelFormat::kBgr24, a.width, a.height);
  const cv::Mat in(src->height, src->width, CV_8UC3, src->pixels.data(), static_cast<std::size_t>(src->stride()));
  cv::Mat dst(out.height, out.width, CV_8UC3, out.pixels.data(), static_cast<std::size_t>(out.stride()));
  cv::resize(in, dst, dst.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

int run_bench(const BenchArgs& a) {
  auto batches = parse_ints("--batch", a.batches);
  auto threads = parse_ints("--threads", a.threads);
  if (!batches || !threads) {
    std::cerr << "vigil bench model: " << (!batches ? batches.error().message : threads.error().message) << "\n";
    return kExitBadInput;
  }
  auto device = resolve_device(a.device, "cpu");
  if (!device) {
    std::cerr << "vigil bench model: " << device.error().message << "\n";
    return kExitBadInput;
  }
  auto provider = parse_execution_provider(*device);
  if (!provider) {
    std::cerr << "vigil bench model: --device: " << provider.error().message << "\n";
    return kExitBadInput;
  }
  if (a.input != "rect" && a.input != "square") {
    std::cerr << "vigil bench model: --input: '" << a.input << "' is not one of rect, square\n";
    return kExitBadInput;
  }
  auto frame = bench_frame(a);
  if (!frame) {
    std::cerr << "vigil bench model: --image " << frame.error().message << "\n";
    return kExitBadInput;
  }
  std::vector<ModelChoice> models;
  for (const auto& text : split_list(a.precisions)) {
    auto choice = choose_model_for(a.model.empty() ? default_model_path() : a.model, text, "--precision", *device);
    if (!choice) {
      std::cerr << "vigil bench model: " << choice.error().message << "\n";
      return kExitBadInput;
    }
    models.push_back(*choice);
  }
  if (models.empty()) {
    std::cerr << "vigil bench model: --precision: empty list\n";
    return kExitBadInput;
  }
  nlohmann::json rows = nlohmann::json::array();
  if (!a.json)
    std::printf("%-9s %-7s %-5s %-6s | %-17s | %-17s | %-17s | %9s %8s  %s\n", "precision", "threads", "batch",
                "iters", "preprocess p50/p95", "inference p50/p95", "postproc p50/p95", "images/s", "pp/inf", "input");
  std::vector<std::pair<const ModelChoice*, int>> runs;  // (model, threads), precision-major
  for (const auto& m : models)
    for (int th : *threads) runs.emplace_back(&m, th);
  for (const auto& [model_of_run, th] : runs) {
    const ModelChoice& model = *model_of_run;
    BackendOptions bo;
    bo.model_path = model.path;
    bo.intra_threads = th;
    bo.provider = *provider;
    bo.spin = a.spin;
    auto det = Detector::create(bo, DetectorOptions{.rectangular = a.input == "rect"});
    if (!det) {
      std::cerr << "vigil bench model: " << det.error().message << "\n";
      return kExitBadInput;
    }
    const InputSize input = (*det)->input_size_for(frame->width, frame->height);
    const std::string input_text = std::to_string(input.width) + "x" + std::to_string(input.height);
    DecodeOptions opts;
    for (int b : *batches) {
      std::vector<const Image*> imgs(static_cast<std::size_t>(b), &*frame);
      std::vector<double> pre, inf, post;
      double total_ms = 0;
      for (int it = 0; it < a.warmup + a.iterations; ++it) {
        DetectTimings t;
        const auto t0 = std::chrono::steady_clock::now();
        auto r = (*det)->detect(imgs, opts, &t);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!r) {
          std::cerr << "vigil bench model: " << r.error().message << "\n";
          return kExitRuntime;
        }
        if (it < a.warmup) continue;
        pre.push_back(t.preprocess_ms);
        inf.push_back(t.inference_ms);
        post.push_back(t.postprocess_ms);
        total_ms += ms;
      }
      const auto sp = summarize(pre), si = summarize(inf), so = summarize(post);
      const double ips = total_ms > 0 ? 1000.0 * b * a.iterations / total_ms : 0;
      const double ratio = si.p50 > 0 ? (sp.p50 + so.p50) / si.p50 : 0;
      if (a.json) {
        auto stage = [](const LatencySummary& s) {
          return nlohmann::json{{"avg_ms", s.avg}, {"p50_ms", s.p50}, {"p95_ms", s.p95}, {"max_ms", s.max}};
        };
        rows.push_back({{"precision", to_string(model.precision)}, {"model", model.path},
                        {"threads", th}, {"batch", b}, {"iterations", a.iterations},
                        {"preprocess", stage(sp)}, {"inference", stage(si)}, {"postprocess", stage(so)},
                        {"images_per_sec", ips}, {"pre_post_over_inference", ratio},
                        {"provider", (*det)->backend().provider()}, {"input", {input.width, input.height}}});
      } else {
        std::printf("%-9s %-7d %-5d %-6d | %7.2f / %7.2f | %7.2f / %7.2f | %7.2f / %7.2f | %9.1f %7.1f%%  %s\n",
                    to_string(model.precision), th, b, a.iterations, sp.p50, sp.p95, si.p50, si.p95, so.p50, so.p95,
                    ips, 100.0 * ratio, input_text.c_str());
        std::fflush(stdout);
      }
    }
  }
  if (a.json) std::cout << nlohmann::json{{"model", a.model.empty() ? default_model_path() : a.model},
                                          {"frame", {a.width, a.height}}, {"results", rows}}.dump(2) << "\n";
  return kExitOk;
}

struct TrackerBenchArgs {
  std::string video = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
  std::string model;
  int every = 1;
  std::string classes = "person";
  bool json = false;
};

// Track continuity without ground truth: a track that ends and a new track of
// the same class that starts within `gap_s` where the old one was heading
// (centre distance < one box height) are counted as one identity switch
// (the same object got a new id).
int run_tracker_bench(const TrackerBenchArgs& a) {
  BackendOptions bo;
  bo.model_path = a.model.empty() ? default_model_path() : a.model;
  auto det = Detector::create(bo);
  if (!det) {
    std::cerr << "vigil bench tracker: " << det.error().message << "\n";
    return kExitBadInput;
  }
  VideoSourceOptions vo;
  vo.url = a.video;
  vo.hwaccel = HwAccel::kNone;
  auto src = VideoSource::open(vo);
  if (!src) {
    std::cerr << "vigil bench tracker: " << src.error().message << "\n";
    return kExitBadInput;
  }
  DecodeOptions opts;
  opts.conf = 0.1F;
  std::vector<std::string> names;
  {
    std::istringstream is(a.classes);
    std::string n;
    while (std::getline(is, n, ',')) names.push_back(n);
  }
  auto mask = class_mask_from_names((*det)->info(), names);
  if (!mask) {
    std::cerr << "vigil bench tracker: " << mask.error().message << "\n";
    return kExitBadInput;
  }
  opts.class_mask = *mask;
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  struct Life {
    int class_id = 0;
    double first = 0, last = 0;
    Box first_box, last_box;
    float vx = 0, vy = 0;
  };
  std::map<std::int64_t, Life> lives;
  FrameConverter conv;
  std::int64_t frame_idx = 0, analysed = 0;
  for (;;) {
    auto r = (*src)->read();
    if (!r) {
      std::cerr << "vigil bench tracker: " << r.error().message << "\n";
      return kExitBadInput;
    }
    if (!r->has_value()) break;
    if (frame_idx++ % a.every != 0) continue;
    auto img = conv.to_image(*(*r)->frame, PixelFormat::kBgr24);
    if (!img) continue;
    const Image* batch[] = {&*img};
    auto d = (*det)->detect(batch, opts);
    if (!d) return kExitRuntime;
    ++analysed;
    const double t = (*r)->pts;
    auto up = tracker.update((*d)[0], t);
    for (const auto& tr : up.tracks) {
      if (tr.state != TrackState::kConfirmed) continue;
      auto [it, fresh] = lives.try_emplace(tr.id);
      Life& l = it->second;
      if (fresh) {
        l.class_id = tr.class_id;
        l.first = t;
        l.first_box = tr.box;
      }
      l.last = t;
      l.last_box = tr.box;
      l.vx = tr.vx;
      l.vy = tr.vy;
    }
  }
  const double gap_s = 2.0;
  int switches = 0;
  for (const auto& [id_a, la] : lives) {
    for (const auto& [id_b, lb] : lives) {
      if (id_b <= id_a || lb.class_id != la.class_id) continue;
      const double gap = lb.first - la.last;
      if (gap <= 0 || gap > gap_s) continue;
      const float px = (la.last_box.x1 + la.last_box.x2) / 2 + la.vx * static_cast<float>(gap);
      const float py = (la.last_box.y1 + la.last_box.y2) / 2 + la.vy * static_cast<float>(gap);
      const float bx = (lb.first_box.x1 + lb.first_box.x2) / 2, by = (lb.first_box.y1 + lb.first_box.y2) / 2;
      if (std::hypot(px - bx, py - by) < std::max(la.last_box.height(), 1.0F)) {
        ++switches;
        break;  // one successor per ended track
      }
    }
  }
  double total_len = 0;
  for (const auto& [id, l] : lives) total_len += l.last - l.first;
  const double per100 = lives.empty() ? 0 : 100.0 * switches / static_cast<double>(lives.size());
  if (a.json) {
    std::cout << nlohmann::json{{"video", a.video}, {"every", a.every}, {"frames", frame_idx}, {"analysed", analysed},
                                {"tracks", lives.size()}, {"id_switches", switches},
                                {"id_switches_per_100_tracks", per100},
                                {"mean_track_s", lives.empty() ? 0.0 : total_len / static_cast<double>(lives.size())}}
                     .dump()
              << "\n";
  } else {
    std::printf("%s: %lld frames, %lld analysed (every %d), %zu confirmed tracks, mean length %.1f s,\n"
                "estimated id switches: %d (%.1f per 100 tracks)\n",
                a.video.c_str(), static_cast<long long>(frame_idx), static_cast<long long>(analysed), a.every,
                lives.size(), lives.empty() ? 0.0 : total_len / static_cast<double>(lives.size()), switches, per100);
  }
  return kExitOk;
}

}  // namespace

std::function<int()> add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  CLI::App* model = bench->add_subcommand("model", "Model latency per stage and batch size");
  model->add_option("--model", args->model, "ONNX model (default: the embedded NanoDet-m 416)");
  model->add_option("--batch", args->batches, "Batch sizes, comma-separated")->capture_default_str();
  model->add_option("--threads", args->threads, "Intra-op thread counts, comma-separated")->capture_default_str();
  model->add_option("--image", args->image, "Source photo, scaled to the frame size")->capture_default_str();
  model->add_option("--width", args->width, "Frame width")->capture_default_str()->check(CLI::Range(16, 8192));
  model->add_option("--height", args->height, "Frame height")->capture_default_str()->check(CLI::Range(16, 8192));
  model->add_option("--iterations", args->iterations, "Timed runs per configuration")->capture_default_str()->check(CLI::Range(1, 100000));
  model->add_option("--warmup", args->warmup, "Untimed runs first")->capture_default_str()->check(CLI::Range(0, 1000));
  model->add_option("--device", args->device, "auto|cpu|cuda|tensorrt (default: $DEVICE, else cpu)");
  model->add_option("--precision", args->precisions,
                    "auto|fp32|int8, comma-separated (e.g. fp32,int8: both, one after the other)")
      ->capture_default_str();
  model->add_flag("--spin", args->spin, "Let idle inference threads spin (as vigil detect does; the engine does not)");
  model->add_option("--input", args->input,
                    "Model input: rect (what the engine runs for the frame on dynamic-size models: its letterbox "
                    "on the square input's stride grid, 416x288 for 16:9) or square (the nominal input)")
      ->capture_default_str();
  model->add_flag("--json", args->json, "JSON output");
  auto targs = std::make_shared<TrackerBenchArgs>();
  CLI::App* trk = bench->add_subcommand("tracker", "Track continuity on a video (estimated id switches per 100 tracks)");
  trk->add_option("video", targs->video, "Video file")->capture_default_str();
  trk->add_option("--model", targs->model, "ONNX model (default: the embedded NanoDet-m 416)");
  trk->add_option("--every", targs->every, "Analyse every Nth frame")->capture_default_str()->check(CLI::Range(1, 1000));
  trk->add_option("--classes", targs->classes, "Classes to track, comma-separated")->capture_default_str();
  trk->add_flag("--json", targs->json, "JSON output");
  std::function<int()> agreement;
  CLI::App* agr = add_agreement_command(*bench, agreement);
  return [args, targs, trk, agr, agreement]() {
    if (agr->parsed()) return agreement();
    return trk->parsed() ? run_tracker_bench(*targs) : run_bench(*args);
  };
}

}  // namespace vigil::cli
