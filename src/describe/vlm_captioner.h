// VlmCaptioner: captions a frame with a vision-language model behind an
// OpenAI-compatible chat-completions endpoint (llama.cpp's llama-server with
// SmolVLM, vLLM, Ollama's /v1), over libcurl.
//
// caption(): the scene's frame is downscaled (aspect kept, longer side <=
// max_side, OpenCV INTER_AREA), JPEG-encoded and sent as a base64 data URL:
//   POST <endpoint>/v1/chat/completions
//   {"model": M, "max_tokens": N, "temperature": 0,
//    "messages": [{"role": "user", "content": [
//        {"type": "text", "text": PROMPT},
//        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,..."}}]}]}
// with "Authorization: Bearer <api_key>" when api_key is set ("model" is left
// out when empty: llama-server serves its one model whatever the name).
// The caption is choices[0].message.content (a string, or an array of
// {"type":"text","text":...} parts, concatenated), whitespace-trimmed.
// summarize(): the same request with text only: summary_prompt and the
// numbered captions (at most summary_max_captions, evenly sampled).
//
// Errors (ErrorCode::kRuntime unless said) name the endpoint: cannot connect,
// no answer within timeout_s, HTTP status other than 200 (with the start of
// the body), an answer that is not JSON or has no choices[0].message.content,
// an empty caption, cancelled; a scene without a frame is kInvalidArgument.
//
// Threading: each call is one blocking HTTP request of at most timeout_s on
// the caller's thread (run it on CaptionScheduler's worker, never on a video
// or detection thread). Calls from several threads at once are safe (one
// connection per call; the JPEG encoder is behind a mutex); cancel() may be
// called from any thread and aborts a call in progress within about a second.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/image.h"
#include "describe/captioner.h"
#include "render/jpeg_encoder.h"

namespace vigil {

struct VlmOptions {
  // Base URL of the server, http:// or https://. "/v1/chat/completions" is
  // appended unless the URL already ends with it; a URL ending with "/v1"
  // gets "/chat/completions".
  std::string endpoint = "http://127.0.0.1:8081";
  // Model name sent as "model"; empty: not sent (llama-server). Ollama and
  // vLLM need the name they serve, e.g. "HuggingFaceTB/SmolVLM-Instruct".
  std::string model;
  // Sent as "Authorization: Bearer <api_key>" when not empty.
  std::string api_key;
  // The instruction sent with each frame.
  std::string prompt = "Describe this scene in one short sentence.";
  // The instruction for the final summary, followed by the numbered captions.
  std::string summary_prompt =
      "These are descriptions of one video's scenes, in time order. Summarise the video in two or three sentences.";
  // Longest answer, tokens: 1..4096.
  int max_tokens = 50;
  int summary_max_tokens = 200;
  // The frame is downscaled so that its longer side is at most this many
  // pixels (aspect kept); 0 = send the frame as it is. 16..8192 otherwise.
  int max_side = 512;
  int jpeg_quality = 85;  // 1..100
  // Whole request (connect, upload, model run, answer), seconds: > 0.
  double timeout_s = 10;
  // At most this many captions go into one summary request (evenly sampled): >= 1.
  int summary_max_captions = 100;

  // `path` names this section in the config, e.g. "describe"; errors name
  // the field: "describe.timeout_s: must be > 0".
  Result<void> validate(const std::string& path) const;
};

// The URL requests go to (see VlmOptions::endpoint).
std::string chat_completions_url(const std::string& endpoint);

// width x height scaled so the longer side is <= max_side (aspect kept, each
// side rounded, at least 1); unchanged when already small enough or max_side <= 0.
void fit_within(int width, int height, int max_side, int& out_width, int& out_height);

// The frame as sent: downscaled to fit max_side (INTER_AREA). Errors name the image size.
Result<Image> downscale_for_vlm(const Image& image, int max_side);

// The text of a chat-completions answer (choices[0].message.content, trimmed).
// Errors name `endpoint` and quote the start of the body.
Result<std::string> parse_chat_completion(const std::string& body, const std::string& endpoint);

class VlmCaptioner final : public Captioner {
 public:
  // Validates the options (errors name `path`.field) and initialises libcurl once per process.
  static Result<std::unique_ptr<VlmCaptioner>> create(VlmOptions options, const std::string& path = "describe");
  explicit VlmCaptioner(VlmOptions options);  // assumes valid options

  Result<Caption> caption(const CaptionScene& scene) override;
  Result<Caption> summarize(const std::vector<std::string>& captions) override;
  const char* name() const override { return "vlm"; }
  bool timed_summary() const override { return true; }
  void cancel() override { cancelled_.store(true); }

  const VlmOptions& options() const { return options_; }
  const std::string& url() const { return url_; }

  // The request body caption() would send for `image` (already downscaled and
  // encoded inside), for tests and debugging.
  Result<std::string> caption_request_body(const Image& image);

 private:
  // POSTs `body` (JSON) and returns the caption text.
  Result<std::string> post(const std::string& body, const std::string& what);

  VlmOptions options_;
  std::string url_;
  std::mutex encoder_mu_;
  JpegEncoder encoder_;  // guarded by encoder_mu_
  std::atomic<bool> cancelled_{false};
};

}  // namespace vigil
