#include "describe/vlm_captioner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <utility>

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "core/base64.h"

namespace vigil {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxAnswerBytes = 8u << 20;  // a chat answer is a few KiB; more is not a caption
constexpr std::size_t kExcerptChars = 200;

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The start of a body, on one line, for error messages.
std::string excerpt(const std::string& body) {
  std::string out = body.substr(0, kExcerptChars);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  out = trim(out);
  if (body.size() > kExcerptChars) out += "...";
  return out.empty() ? "(empty body)" : "'" + out + "'";
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Loopback is never proxied (a proxy in the environment must not swallow a
// local llama-server); the user's own no_proxy list is kept.
std::string no_proxy_list() {
  std::string list = "localhost,127.0.0.1,::1";
  for (const char* var : {"NO_PROXY", "no_proxy"}) {
    if (const char* v = std::getenv(var); v && *v) {
      list += ",";
      list += v;
      break;
    }
  }
  return list;
}

struct Sink {
  std::string body;
  bool too_large = false;
};

std::size_t write_cb(char* data, std::size_t size, std::size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * nmemb;
  if (sink->body.size() + n > kMaxAnswerBytes) {
    sink->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  sink->body.append(data, n);
  return n;
}

int xferinfo_cb(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(user)->load() ? 1 : 0;
}

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

double elapsed_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

Result<void> VlmOptions::validate(const std::string& path) const {
  auto bad = [&](const std::string& field, const std::string& why) {
    return fail(ErrorCode::kInvalidArgument, path + "." + field + ": " + why);
  };
  if (!starts_with(endpoint, "http://") && !starts_with(endpoint, "https://")) {
    return bad("endpoint", "'" + endpoint + "' is not an http:// or https:// URL");
  }
  if (endpoint.find_first_of(" \t\r\n") != std::string::npos) {
    return bad("endpoint", "'" + endpoint + "' contains white space");
  }
  if (max_tokens < 1 || max_tokens > 4096) return bad("max_tokens", "must be between 1 and 4096");
  if (summary_max_tokens < 1 || summary_max_tokens > 4096) {
    return bad("summary_max_tokens", "must be between 1 and 4096");
  }
  if (max_side != 0 && (max_side < 16 || max_side > 8192)) {
    return bad("max_side", "must be 0 (no downscale) or between 16 and 8192");
  }
  if (jpeg_quality < 1 || jpeg_quality > 100) return bad("jpeg_quality", "must be between 1 and 100");
  if (!std::isfinite(timeout_s) || timeout_s <= 0) return bad("timeout_s", "must be > 0");
  if (summary_max_captions < 1) return bad("summary_max_captions", "must be >= 1");
  if (trim(prompt).empty()) return bad("prompt", "must not be empty");
  if (api_key.find_first_of("\r\n") != std::string::npos) return bad("api_key", "must be one line");
  return {};
}

std::string chat_completions_url(const std::string& endpoint) {
  std::string url = endpoint;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (ends_with(url, "/v1/chat/completions")) return url;
  if (ends_with(url, "/v1")) return url + "/chat/completions";
  return url + "/v1/chat/completions";
}

void fit_within(int width, int height, int max_side, int& out_width, int& out_height) {
  out_width = width;
  out_height = height;
  const int longer = std::max(width, height);
  if (max_side <= 0 || longer <= max_side || width <= 0 || height <= 0) return;
  const double scale = static_cast<double>(max_side) / longer;
  out_width = std::max(1, static_cast<int>(std::lround(width * scale)));
  out_height = std::max(1, static_cast<int>(std::lround(height * scale)));
  if (width >= height) out_width = max_side;  // exact on the longer side whatever the rounding
  else out_height = max_side;
}

Result<Image> downscale_for_vlm(const Image& image, int max_side) {
  const std::string what = "frame " + std::to_string(image.width) + "x" + std::to_string(image.height);
  if (image.empty()) return fail(ErrorCode::kInvalidArgument, "VLM caption: empty frame");
  const int ch = channels(image.format);
  if (image.pixels.size() != static_cast<std::size_t>(image.stride()) * static_cast<std::size_t>(image.height)) {
    return fail(ErrorCode::kInvalidArgument, what + ": pixel buffer size does not match");
  }
  int w = 0, h = 0;
  fit_within(image.width, image.height, max_side, w, h);
  if (w == image.width && h == image.height) return image;
  Image out(image.format, w, h);
  try {
    const cv::Mat src(image.height, image.width, CV_8UC(ch), const_cast<std::uint8_t*>(image.pixels.data()),
                      static_cast<std::size_t>(image.stride()));
    cv::Mat dst(h, w, CV_8UC(ch), out.pixels.data(), static_cast<std::size_t>(out.stride()));
    cv::resize(src, dst, dst.size(), 0, 0, cv::INTER_AREA);
  } catch (const cv::Exception& e) {
    return fail(ErrorCode::kRuntime, what + ": downscale failed: " + e.what());
  }
  return out;
}

Result<std::string> parse_chat_completion(const std::string& body, const std::string& endpoint) {
  const std::string who = "VLM endpoint " + endpoint + ": ";
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(ErrorCode::kRuntime, who + "the answer is not JSON: " + excerpt(body));
  if (!j.is_object()) return fail(ErrorCode::kRuntime, who + "the answer is not a JSON object: " + excerpt(body));
  const auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) {
    // OpenAI-style {"error": {"message": ...}} in a 200 answer.
    if (const auto err = j.find("error"); err != j.end()) {
      const auto msg = err->is_object() ? err->find("message") : err->end();
      if (err->is_object() && msg != err->end() && msg->is_string()) {
        return fail(ErrorCode::kRuntime, who + "the server answered an error: " + msg->get<std::string>());
      }
    }
    return fail(ErrorCode::kRuntime, who + "the answer has no choices: " + excerpt(body));
  }
  const json& first = choices->front();
  const auto message = first.is_object() ? first.find("message") : first.end();
  if (!first.is_object() || message == first.end() || !message->is_object()) {
    return fail(ErrorCode::kRuntime, who + "the answer has no choices[0].message: " + excerpt(body));
  }
  const auto content = message->find("content");
  std::string text;
  if (content != message->end() && content->is_string()) {
    text = content->get<std::string>();
  } else if (content != message->end() && content->is_array()) {
    for (const json& part : *content) {
      if (part.is_string()) {
        text += part.get<std::string>();
        continue;
      }
      if (!part.is_object()) continue;
      const auto type = part.find("type");
      const auto t = part.find("text");
      if ((type == part.end() || (type->is_string() && type->get<std::string>() == "text")) && t != part.end() &&
          t->is_string()) {
        text += t->get<std::string>();
      }
    }
  } else {
    return fail(ErrorCode::kRuntime, who + "the answer has no choices[0].message.content: " + excerpt(body));
  }
  text = trim(text);
  if (text.empty()) return fail(ErrorCode::kRuntime, who + "the caption is empty: " + excerpt(body));
  return text;
}

Result<std::unique_ptr<VlmCaptioner>> VlmCaptioner::create(VlmOptions options, const std::string& path) {
  if (auto ok = options.validate(path); !ok) return fail(ok.error());
  return std::make_unique<VlmCaptioner>(std::move(options));
}

VlmCaptioner::VlmCaptioner(VlmOptions options) : options_(std::move(options)), url_(chat_completions_url(options_.endpoint)) {
  init_curl_once();
}

Result<std::string> VlmCaptioner::caption_request_body(const Image& image) {
  auto small = downscale_for_vlm(image, options_.max_side);
  if (!small) return fail(small.error());
  Result<std::vector<std::uint8_t>> jpeg = fail(ErrorCode::kRuntime, "not encoded");
  {
    std::lock_guard lock(encoder_mu_);
    jpeg = encoder_.encode(*small, options_.jpeg_quality);
  }
  if (!jpeg) return fail(jpeg.error());
  json req;
  if (!options_.model.empty()) req["model"] = options_.model;
  req["max_tokens"] = options_.max_tokens;
  req["temperature"] = 0;
  req["messages"] = json::array(
      {{{"role", "user"},
        {"content", json::array({{{"type", "text"}, {"text", options_.prompt}},
                                 {{"type", "image_url"},
                                  {"image_url", {{"url", "data:image/jpeg;base64," + base64_encode(*jpeg)}}}}})}}});
  return dump(req);
}

Result<Caption> VlmCaptioner::caption(const CaptionScene& scene) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string what = "stream '" + scene.stream + "'";
  if (!scene.image || scene.image->empty()) {
    return fail(ErrorCode::kInvalidArgument, what + ": no frame to caption (the VLM captioner needs the image)");
  }
  auto body = caption_request_body(*scene.image);
  if (!body) return fail(body.error().code, what + ": " + body.error().message);
  auto text = post(*body, what);
  if (!text) return fail(text.error());
  return Caption{std::move(*text), elapsed_ms(t0), name()};
}

Result<Caption> VlmCaptioner::summarize(const std::vector<std::string>& captions) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> kept;
  for (const std::string& c : captions) {
    if (!trim(c).empty()) kept.push_back(trim(c));
  }
  if (kept.empty()) return Caption{"No captions.", elapsed_ms(t0), name()};
  const std::size_t limit = static_cast<std::size_t>(options_.summary_max_captions);
  std::string list;
  const std::size_t n = std::min(kept.size(), limit);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t idx = kept.size() <= limit ? i : i * kept.size() / limit;  // evenly sampled, in order
    list += std::to_string(i + 1) + ". " + kept[idx] + "\n";
  }
  json req;
  if (!options_.model.empty()) req["model"] = options_.model;
  req["max_tokens"] = options_.summary_max_tokens;
  req["temperature"] = 0;
  req["messages"] = json::array({{{"role", "user"}, {"content", options_.summary_prompt + "\n\n" + list}}});
  auto text = post(dump(req), "summary of " + std::to_string(kept.size()) + " captions");
  if (!text) return fail(text.error());
  return Caption{std::move(*text), elapsed_ms(t0), name()};
}

Result<std::string> VlmCaptioner::post(const std::string& body, const std::string& what) {
  const std::string who = what + ": VLM endpoint " + url_ + ": ";
  if (cancelled_.load()) return fail(ErrorCode::kRuntime, who + "cancelled (shutting down)");
  std::unique_ptr<CURL, CurlEasyDeleter> h(curl_easy_init());
  if (!h) return fail(ErrorCode::kRuntime, who + "cannot create a libcurl handle");
  curl_slist* raw = nullptr;
  raw = curl_slist_append(raw, "Content-Type: application/json");
  raw = curl_slist_append(raw, "Accept: application/json");
  raw = curl_slist_append(raw, "Expect:");  // no 100-continue round trip for the image upload
  if (!options_.api_key.empty()) raw = curl_slist_append(raw, ("Authorization: Bearer " + options_.api_key).c_str());
  std::unique_ptr<curl_slist, CurlListDeleter> headers(raw);
  if (!headers) return fail(ErrorCode::kRuntime, who + "cannot build the request headers");

  Sink sink;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string no_proxy = no_proxy_list();
  const long timeout_ms = std::max(1L, static_cast<long>(std::lround(options_.timeout_s * 1000)));
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for timeouts
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &cancelled_);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOPROXY, no_proxy.c_str());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);

  const CURLcode rc = curl_easy_perform(c);
  const std::string detail = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  if (cancelled_.load()) return fail(ErrorCode::kRuntime, who + "cancelled (shutting down)");
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return fail(ErrorCode::kRuntime, who + "cannot connect (" + detail + "); is the server running?");
    case CURLE_OPERATION_TIMEDOUT:
      return fail(ErrorCode::kRuntime, who + "no answer within " + seconds_text(options_.timeout_s) +
                                           " s (timeout_s; " + detail + ")");
    case CURLE_WRITE_ERROR:
      if (sink.too_large) {
        return fail(ErrorCode::kRuntime, who + "the answer is larger than " + std::to_string(kMaxAnswerBytes >> 20) +
                                             " MiB");
      }
      [[fallthrough]];
    default:
      return fail(ErrorCode::kRuntime, who + "request failed: " + detail);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    return fail(ErrorCode::kRuntime, who + "HTTP " + std::to_string(status) + ": " + excerpt(sink.body));
  }
  auto text = parse_chat_completion(sink.body, url_);
  if (!text) return fail(text.error().code, what + ": " + text.error().message);
  return text;
}

}  // namespace vigil
