// AnalyzeSettings: everything that decides the results of an offline
// analysis (`vigil analyze`, POST /api/jobs). Two runs with equal settings
// give byte-identical results.json, events.jsonl and timeline.csv.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/engine_config.h"
#include "core/error.h"

namespace vigil {

struct AnalyzeSettings {
  std::string video;        // file path (absolute once resolved) or http(s) URL (as given)
  std::string name;         // the file's name as given (e.g. "Lobby Cam.2024-01-01.mp4"), shown in outputs
  // stream.id (the "stream" of its events, [a-z0-9_-]+) is the slug of the
  // file's stem: stream_id_for_file().
  double sample_fps = 1;    // analysed frames per media second
  double chunk_s = 300;     // chunk length, media seconds
  std::string model_path;   // ONNX model
  bool rectangular = true;  // model.rectangular: stride-multiple inputs per frame shape (dynamic-size models)
  StreamConfig stream;      // conf, iou, max_det, classes, tracker, zones, lines, hwaccel, decode_threads
  std::string config_text;  // the -c file's text, if any, secrets redacted (part of the job key; in Redis)
  double stitch_iou = 0.3;  // tracks across a chunk boundary join at this IoU or more
  // Scene captions (stream.describe's captioner): at the first sample of every
  // describe.every_s seconds of video (on a global grid), or once per chunk
  // (its first sample) when every_s is 0.
  bool captions = false;

  // The job key: the video (path, size, modification time; a URL is the URL
  // alone), the model file (path, size, modification time) and every option
  // above.
  nlohmann::json key_json() const;
  // key_json() as text (invalid UTF-8 in paths replaced, never throws).
  std::string key() const;
};

// A stream id from a file path or URL, the way `vigil run` names its
// sources: the stem, lower-cased, every character outside [a-z0-9_-] made
// '_' ("Lobby Cam.2024-01-01.mp4" -> "lobby_cam_2024-01-01"); "stream" when
// that is empty or longer than 48 characters.
std::string stream_id_for_file(const std::string& path);

// `video` is an http:// or https:// URL (any case), not a file path.
bool is_http_video_url(const std::string& video);
// The file name a path or URL ends with: its last path segment, without a
// URL's query or fragment ("http://h/v/a.mp4?x=1" -> "a.mp4").
std::string video_file_name(const std::string& video);

// What a user chooses for one analysis (command line or POST /api/jobs).
struct AnalyzeRequest {
  std::string video;
  double sample_fps = 1;
  double chunk_s = 300;
  std::vector<std::string> classes;  // empty: the config's (or all)
  std::string model;                 // empty: the config's, else default_model
  bool captions = false;             // add scene captions (the config's describe: settings)
};

// Settings for `request` under `config` (may be null). An http(s) video URL
// is kept as given (a file path is made absolute); one carrying a secret
// (a password, a token parameter: what redact_url() hides) is refused, since
// the video's name is written to the outputs and, distributed, to Redis. the stream options,
// zones and lines come from the config's stream whose url is the video, else
// its first stream, else the defaults. Errors name the option: a sample rate
// or chunk length that is not a finite number > 0, more than 1000 samples per
// second, an unknown class name is checked later against the model.
Result<AnalyzeSettings> make_analyze_settings(const AnalyzeRequest& request, const EngineConfig* config,
                                              const std::string& config_text, const std::string& default_model);

}  // namespace vigil
