// VlmCaptioner against a LOCAL FAKE chat-completions server.
//
// This is a test double: no vision-language model can run on this machine
// (no GPU, no model weights), so these tests start a small HTTP server on
// 127.0.0.1 (an ephemeral port, Boost.Beast, one thread) that speaks just
// enough of the OpenAI chat-completions protocol: it records each request and
// answers what the test tells it to (a caption, an HTTP 500, invalid JSON, a
// slow answer, or an answer held until the test releases it). The model's
// words are therefore canned; what is tested is Vigil's side: the request
// shape, the image it sends, and how answers and failures are handled.
#include "describe/vlm_captioner.h"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "describe/caption_scheduler.h"
#include "fake_chat_server.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using test::chat_answer;
using test::closed_port;
using test::FakeChatServer;
using test::Reply;
using test::SeenRequest;

std::shared_ptr<const Image> frame(int w, int h) {
  auto img = std::make_shared<Image>(PixelFormat::kBgr24, w, h);
  for (int y = 0; y < h; ++y) {
    std::uint8_t* row = img->row(y);
    for (int x = 0; x < w; ++x) {
      row[3 * x] = static_cast<std::uint8_t>(x);
      row[3 * x + 1] = static_cast<std::uint8_t>(y);
      row[3 * x + 2] = static_cast<std::uint8_t>(x + y);
    }
  }
  return img;
}

CaptionScene scene_with_frame(int w = 1280, int h = 720) {
  CaptionScene s;
  s.stream = "cam1";
  s.frame_w = w;
  s.frame_h = h;
  s.image = frame(w, h);
  return s;
}

VlmOptions options_for(const std::string& endpoint) {
  VlmOptions o;
  o.endpoint = endpoint;
  o.model = "smolvlm";
  o.timeout_s = 5;
  return o;
}

std::unique_ptr<VlmCaptioner> make(const VlmOptions& o) {
  auto c = VlmCaptioner::create(o);
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? std::move(*c) : nullptr;
}

// Width and height of a JPEG (TurboJPEG header read); {0, 0} when not a JPEG.
std::pair<int, int> jpeg_size(const std::vector<std::uint8_t>& jpeg) {
  tjhandle h = tjInitDecompress();
  int w = 0, ht = 0, subsamp = 0, colorspace = 0;
  const int rc = tjDecompressHeader3(h, jpeg.data(), static_cast<unsigned long>(jpeg.size()), &w, &ht, &subsamp,
                                     &colorspace);
  tjDestroy(h);
  return rc == 0 ? std::pair{w, ht} : std::pair{0, 0};
}

// The JPEG inside a caption request's image_url data URL.
std::vector<std::uint8_t> image_of_request(const json& body) {
  const std::string url = body.at("messages").at(0).at("content").at(1).at("image_url").at("url");
  const std::string prefix = "data:image/jpeg;base64,";
  EXPECT_EQ(url.rfind(prefix, 0), 0U) << url.substr(0, 40);
  auto bytes = base64_decode(std::string_view(url).substr(prefix.size()));
  EXPECT_TRUE(bytes.has_value());
  return bytes.value_or(std::vector<std::uint8_t>{});
}

// --- pure helpers ---------------------------------------------------------------------

TEST(VlmBase64, RoundTripsAndRejectsJunk) {
  const std::string text = "Vigil captions";
  for (std::size_t n = 0; n <= text.size(); ++n) {
    const std::vector<std::uint8_t> bytes(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n));
    const std::string enc = base64_encode(bytes);
    EXPECT_EQ(enc.size() % 4, 0U);
    EXPECT_EQ(base64_decode(enc), bytes) << enc;
  }
  EXPECT_EQ(base64_encode(std::vector<std::uint8_t>{'M', 'a', 'n'}), "TWFu");
  EXPECT_EQ(base64_encode(std::vector<std::uint8_t>{'M', 'a'}), "TWE=");
  EXPECT_EQ(base64_encode(std::vector<std::uint8_t>{0xFB, 0xFF}), "+/8=");
  EXPECT_FALSE(base64_decode("TW?u").has_value());
  EXPECT_FALSE(base64_decode("TWFuT").has_value());
}

TEST(VlmCaptioner, EndpointForms) {
  EXPECT_EQ(chat_completions_url("http://127.0.0.1:8081"), "http://127.0.0.1:8081/v1/chat/completions");
  EXPECT_EQ(chat_completions_url("http://127.0.0.1:8081/"), "http://127.0.0.1:8081/v1/chat/completions");
  EXPECT_EQ(chat_completions_url("http://localhost:11434/v1"), "http://localhost:11434/v1/chat/completions");
  EXPECT_EQ(chat_completions_url("http://localhost:11434/v1/"), "http://localhost:11434/v1/chat/completions");
  EXPECT_EQ(chat_completions_url("https://h/x/v1/chat/completions"), "https://h/x/v1/chat/completions");
}

TEST(VlmCaptioner, FitWithinKeepsAspect) {
  int w = 0, h = 0;
  fit_within(1280, 720, 512, w, h);
  EXPECT_EQ(w, 512);
  EXPECT_EQ(h, 288);
  fit_within(720, 1280, 512, w, h);
  EXPECT_EQ(w, 288);
  EXPECT_EQ(h, 512);
  fit_within(768, 576, 512, w, h);
  EXPECT_EQ(w, 512);
  EXPECT_EQ(h, 384);
  fit_within(400, 300, 512, w, h);  // already small
  EXPECT_EQ(w, 400);
  EXPECT_EQ(h, 300);
  fit_within(4000, 10, 512, w, h);  // never 0
  EXPECT_EQ(w, 512);
  EXPECT_EQ(h, 1);
  fit_within(1280, 720, 0, w, h);  // 0: no downscale
  EXPECT_EQ(w, 1280);
}

TEST(VlmCaptioner, DownscaleAveragesPixels) {
  Image img(PixelFormat::kGray8, 4, 2);
  img.pixels = {0, 100, 200, 200, 0, 100, 200, 200};
  auto small = downscale_for_vlm(img, 2);
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ(small->width, 2);
  EXPECT_EQ(small->height, 1);
  EXPECT_EQ(small->format, PixelFormat::kGray8);
  EXPECT_EQ(small->pixels, (std::vector<std::uint8_t>{50, 200}));
  EXPECT_FALSE(downscale_for_vlm(Image{}, 512));
}

TEST(VlmCaptioner, ParsesAnswers) {
  auto ok = parse_chat_completion(chat_answer("  A man walks a dog.\n"), "E");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, "A man walks a dog.");
  // Content as an array of parts.
  auto parts = parse_chat_completion(
      R"({"choices":[{"message":{"content":[{"type":"text","text":"Two cars "},{"type":"text","text":"park."}]}}]})",
      "E");
  ASSERT_TRUE(parts) << parts.error().message;
  EXPECT_EQ(*parts, "Two cars park.");
  struct Bad {
    std::string body, expect;
  };
  for (const Bad& b : std::vector<Bad>{
           {"<html>oops</html>", "not JSON"},
           {"[1,2]", "not a JSON object"},
           {R"({"object":"chat.completion"})", "no choices"},
           {R"({"choices":[]})", "no choices"},
           {R"({"error":{"message":"model not loaded"}})", "model not loaded"},
           {R"({"choices":[{"text":"legacy"}]})", "no choices[0].message"},
           {R"({"choices":[{"message":{"role":"assistant"}}]})", "no choices[0].message.content"},
           {R"({"choices":[{"message":{"content":"   "}}]})", "empty"},
       }) {
    auto r = parse_chat_completion(b.body, "http://e/v1/chat/completions");
    ASSERT_FALSE(r) << b.body;
    EXPECT_NE(r.error().message.find(b.expect), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("http://e/v1/chat/completions"), std::string::npos) << r.error().message;
  }
}

TEST(VlmCaptioner, OptionsValidationNamesTheField) {
  EXPECT_TRUE(VlmOptions{}.validate("describe"));
  struct Case {
    std::function<void(VlmOptions&)> change;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{
           {[](VlmOptions& o) { o.endpoint = "127.0.0.1:8081"; }, "describe.endpoint"},
           {[](VlmOptions& o) { o.endpoint = "ftp://x"; }, "describe.endpoint"},
           {[](VlmOptions& o) { o.max_tokens = 0; }, "describe.max_tokens"},
           {[](VlmOptions& o) { o.max_side = 8; }, "describe.max_side"},
           {[](VlmOptions& o) { o.timeout_s = 0; }, "describe.timeout_s"},
           {[](VlmOptions& o) { o.prompt = " "; }, "describe.prompt"},
           {[](VlmOptions& o) { o.jpeg_quality = 101; }, "describe.jpeg_quality"},
       }) {
    VlmOptions o;
    c.change(o);
    auto r = VlmCaptioner::create(o, "describe");
    ASSERT_FALSE(r) << c.field;
    EXPECT_EQ(r.error().message.rfind(c.field, 0), 0U) << r.error().message;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

// --- over HTTP ---------------------------------------------------------------------------

TEST(VlmCaptioner, SendsTheRequestShapeAndReturnsTheTrimmedCaption) {
  FakeChatServer server([](const SeenRequest&, int) { return Reply{200, chat_answer("\n  A person walks past a car.  ")}; });
  VlmOptions o = options_for(server.url());
  o.api_key = "sk-test";
  o.max_tokens = 40;
  auto captioner = make(o);
  ASSERT_TRUE(captioner);
  auto r = captioner->caption(scene_with_frame(1280, 720));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->text, "A person walks past a car.");
  EXPECT_EQ(r->captioner, "vlm");
  EXPECT_GT(r->latency_ms, 0);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/v1/chat/completions");
  EXPECT_EQ(seen[0].authorization, "Bearer sk-test");
  EXPECT_EQ(seen[0].content_type, "application/json");
  const json body = json::parse(seen[0].body);
  EXPECT_EQ(body.at("model"), "smolvlm");
  EXPECT_EQ(body.at("max_tokens"), 40);
  EXPECT_EQ(body.at("temperature"), 0);
  ASSERT_EQ(body.at("messages").size(), 1U);
  const json& msg = body.at("messages").at(0);
  EXPECT_EQ(msg.at("role"), "user");
  ASSERT_EQ(msg.at("content").size(), 2U);
  EXPECT_EQ(msg.at("content").at(0).at("type"), "text");
  EXPECT_EQ(msg.at("content").at(0).at("text"), "Describe this scene in one short sentence.");
  EXPECT_EQ(msg.at("content").at(1).at("type"), "image_url");
  // The data URL decodes to a JPEG downscaled to max_side 512, aspect kept.
  EXPECT_EQ(jpeg_size(image_of_request(body)), (std::pair{512, 288}));
}

TEST(VlmCaptioner, NoKeyNoModelAndOtherEndpointForms) {
  FakeChatServer server([](const SeenRequest&, int) { return Reply{200, chat_answer("ok")}; });
  VlmOptions o = options_for(server.url() + "/v1");
  o.model.clear();
  o.max_side = 256;
  o.prompt = "What is happening?";
  auto captioner = make(o);
  ASSERT_TRUE(captioner);
  ASSERT_TRUE(captioner->caption(scene_with_frame(640, 480)));
  o.endpoint = server.url() + "/v1/chat/completions";
  auto captioner2 = make(o);
  ASSERT_TRUE(captioner2);
  ASSERT_TRUE(captioner2->caption(scene_with_frame(200, 100)));  // smaller than max_side: sent as it is

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2U);
  for (const auto& s : seen) {
    EXPECT_EQ(s.target, "/v1/chat/completions");
    EXPECT_EQ(s.authorization, "");
    const json body = json::parse(s.body);
    EXPECT_FALSE(body.contains("model"));
    EXPECT_EQ(body.at("messages").at(0).at("content").at(0).at("text"), "What is happening?");
  }
  EXPECT_EQ(jpeg_size(image_of_request(json::parse(seen[0].body))), (std::pair{256, 192}));
  EXPECT_EQ(jpeg_size(image_of_request(json::parse(seen[1].body))), (std::pair{200, 100}));
}

TEST(VlmCaptioner, SceneWithoutAFrameIsRejectedBeforeAnyRequest) {
  FakeChatServer server([](const SeenRequest&, int) { return Reply{200, chat_answer("ok")}; });
  auto captioner = make(options_for(server.url()));
  ASSERT_TRUE(captioner);
  CaptionScene s;
  s.stream = "door";
  auto r = captioner->caption(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("stream 'door'"), std::string::npos) << r.error().message;
  EXPECT_TRUE(server.requests().empty());
}

TEST(VlmCaptioner, SlowServerTimesOut) {
  FakeChatServer server([](const SeenRequest&, int) { return Reply{200, chat_answer("late"), 5.0}; });
  VlmOptions o = options_for(server.url());
  o.timeout_s = 0.5;
  auto captioner = make(o);
  ASSERT_TRUE(captioner);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = captioner->caption(scene_with_frame());
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no answer within 0.5 s"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(server.url()), std::string::npos) << r.error().message;
  EXPECT_LT(waited, 0.5 + 1.0);  // bounded by timeout_s, not by the server's 5 s
}

TEST(VlmCaptioner, ServerErrorNamesTheStatusAndBody) {
  FakeChatServer server(
      [](const SeenRequest&, int) { return Reply{500, R"({"error":{"message":"CUDA out of memory"}})"}; });
  auto captioner = make(options_for(server.url()));
  ASSERT_TRUE(captioner);
  auto r = captioner->caption(scene_with_frame());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("HTTP 500"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("CUDA out of memory"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("stream 'cam1'"), std::string::npos) << r.error().message;
}

TEST(VlmCaptioner, InvalidJsonIsAnError) {
  FakeChatServer server([](const SeenRequest&, int) { return Reply{200, "this is not json"}; });
  auto captioner = make(options_for(server.url()));
  ASSERT_TRUE(captioner);
  auto r = captioner->caption(scene_with_frame());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not JSON"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("this is not json"), std::string::npos) << r.error().message;
}

TEST(VlmCaptioner, ConnectionRefusedIsAnError) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
  auto captioner = make(options_for(url));
  ASSERT_TRUE(captioner);
  auto r = captioner->caption(scene_with_frame());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot connect"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(url), std::string::npos) << r.error().message;
}

TEST(VlmCaptioner, SummarizeSendsTextOnly) {
  FakeChatServer server([](const SeenRequest&, int) { return Reply{200, chat_answer(" People come and go. ")}; });
  VlmOptions o = options_for(server.url());
  o.summary_max_captions = 3;
  auto captioner = make(o);
  ASSERT_TRUE(captioner);
  auto r = captioner->summarize({"[00:00] a", "[00:10] b", " ", "[00:20] c", "[00:30] d", "[00:40] e", "[00:50] f"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->text, "People come and go.");
  EXPECT_EQ(r->captioner, "vlm");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1U);
  const json body = json::parse(seen[0].body);
  EXPECT_EQ(body.at("max_tokens"), o.summary_max_tokens);
  EXPECT_EQ(body.at("temperature"), 0);
  const std::string content = body.at("messages").at(0).at("content");
  EXPECT_EQ(content.rfind(o.summary_prompt, 0), 0U);
  // 6 captions, 3 kept, evenly and in order.
  EXPECT_NE(content.find("1. [00:00] a\n2. [00:20] c\n3. [00:40] e\n"), std::string::npos) << content;
  auto none = captioner->summarize({});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->text, "No captions.");
  EXPECT_EQ(server.requests().size(), 1U);  // nothing to ask
}

// --- CaptionScheduler over HTTP ---------------------------------------------------------------

struct Done {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> results;  // caption text or "error: ..."
  CaptionScheduler::Callback callback() {
    return [this](Result<Caption> r, const CaptionScene&) {
      std::lock_guard lock(mu);
      results.push_back(r ? r->text : "error: " + r.error().message);
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 15s, [&] { return results.size() >= n; });
  }
};

TEST(VlmCaptionScheduler, SlowServerSkipsWhatDoesNotFitAndSubmitNeverWaits) {
  FakeChatServer server([](const SeenRequest&, int i) { return Reply{200, chat_answer("caption " + std::to_string(i)), 0, true}; });
  auto captioner = make(options_for(server.url()));
  ASSERT_TRUE(captioner);
  CaptionScheduler scheduler(std::move(captioner));
  Done done;
  // The server holds every answer until release(): all five submits return
  // while the first request is still unanswered.
  std::vector<bool> accepted;
  for (int i = 0; i < 5; ++i) accepted.push_back(scheduler.submit(scene_with_frame(), done.callback()));
  EXPECT_EQ(accepted, (std::vector<bool>{true, true, false, false, false}));
  ASSERT_TRUE(server.wait_requests(1));
  CaptionStats s = scheduler.stats();
  EXPECT_EQ(s.requests, 2U);
  EXPECT_EQ(s.skipped, 3U);
  EXPECT_EQ(s.done, 0U);
  server.release();
  ASSERT_TRUE(done.wait_for(2));
  EXPECT_EQ(done.results, (std::vector<std::string>{"caption 0", "caption 1"}));
  s = scheduler.stats();
  EXPECT_EQ(s.done, 2U);
  EXPECT_EQ(s.errors, 0U);
  EXPECT_EQ(s.latency.count, 2U);
  EXPECT_GT(s.latency.max, 0);
  EXPECT_EQ(server.requests().size(), 2U);
}

TEST(VlmCaptionScheduler, ServerErrorsAreCountedAndCaptioningGoesOn) {
  FakeChatServer server([](const SeenRequest&, int i) {
    if (i == 0) return Reply{500, "internal error"};
    if (i == 1) return Reply{200, "{not json"};
    return Reply{200, chat_answer("back to normal")};
  });
  auto captioner = make(options_for(server.url()));
  ASSERT_TRUE(captioner);
  CaptionScheduler scheduler(std::move(captioner));
  Done done;
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(scheduler.submit(scene_with_frame(320, 240), done.callback()));
    ASSERT_TRUE(done.wait_for(i + 1));
    for (int k = 0; k < 500 && scheduler.stats().pending > 0; ++k) std::this_thread::sleep_for(2ms);
  }
  EXPECT_NE(done.results[0].find("HTTP 500"), std::string::npos) << done.results[0];
  EXPECT_NE(done.results[1].find("not JSON"), std::string::npos) << done.results[1];
  EXPECT_EQ(done.results[2], "back to normal");
  const CaptionStats s = scheduler.stats();
  EXPECT_EQ(s.requests, 3U);
  EXPECT_EQ(s.errors, 2U);
  EXPECT_EQ(s.done, 1U);
  EXPECT_EQ(s.skipped, 0U);
  EXPECT_NE(s.last_error.find("not JSON"), std::string::npos) << s.last_error;
}

TEST(VlmCaptionScheduler, ConnectionRefusedIsCounted) {
  auto captioner = make(options_for("http://127.0.0.1:" + std::to_string(closed_port())));
  ASSERT_TRUE(captioner);
  CaptionScheduler scheduler(std::move(captioner));
  Done done;
  ASSERT_TRUE(scheduler.submit(scene_with_frame(320, 240), done.callback()));
  ASSERT_TRUE(done.wait_for(1));
  EXPECT_NE(done.results[0].find("cannot connect"), std::string::npos) << done.results[0];
  EXPECT_EQ(scheduler.stats().errors, 1U);
}

TEST(VlmCaptionScheduler, StopDoesNotWaitForTheTimeout) {
  FakeChatServer server([](const SeenRequest&, int) { return Reply{200, chat_answer("never"), 0, true}; });
  VlmOptions o = options_for(server.url());
  o.timeout_s = 60;
  auto captioner = make(o);
  ASSERT_TRUE(captioner);
  std::atomic<int> callbacks{0};
  auto scheduler = std::make_unique<CaptionScheduler>(std::move(captioner));
  ASSERT_TRUE(scheduler->submit(scene_with_frame(), [&](Result<Caption>, const CaptionScene&) { ++callbacks; }));
  ASSERT_TRUE(server.wait_requests(1));
  const auto t0 = std::chrono::steady_clock::now();
  scheduler.reset();  // cancels the request in flight (libcurl progress callback)
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 10.0);  // far below timeout_s (typically ~1 s)
  EXPECT_EQ(callbacks.load(), 0);
}

}  // namespace
}  // namespace vigil
