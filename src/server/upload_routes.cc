#include "server/upload_routes.h"

#include <nlohmann/json.hpp>

#include "server/url_codec.h"

namespace vigil {

using nlohmann::json;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::size_t kMaxOffsetDigits = 19;  // below 2^64

json status_json(const UploadStatus& s) {
  return {{"name", s.name}, {"path", s.path}, {"bytes", s.bytes}, {"complete", s.complete}};
}

// The offset= parameter: none when absent; kInvalidArgument when not a number.
Result<std::optional<std::uint64_t>> read_offset(const std::map<std::string, std::string>& q) {
  const auto it = q.find("offset");
  if (it == q.end()) return std::optional<std::uint64_t>{};
  const std::string& s = it->second;
  if (s.empty() || s.size() > kMaxOffsetDigits || s.find_first_not_of("0123456789") != std::string::npos)
    return fail(ErrorCode::kInvalidArgument, "offset '" + s + "': must be a number of bytes (0 or more)");
  return std::optional<std::uint64_t>(std::stoull(s));
}

}  // namespace

ApiResponse UploadRoutes::too_large() const {
  const std::uint64_t max = store_.max_bytes();
  return json_error(413, "the upload is larger than server.upload_max_mb (" + std::to_string(max / kMiB) + " MiB = " +
                             std::to_string(max) + " bytes, the offset included)");
}

UploadStart UploadRoutes::begin(const std::string& query, std::optional<std::uint64_t> content_length) {
  UploadStart out;
  const auto q = parse_query(query);
  const auto name_it = q.find("name");
  const std::string name = name_it == q.end() ? "" : name_it->second;
  auto offset = read_offset(q);
  if (!offset) {
    out.error = bad_request(offset.error());
    return out;
  }
  const std::uint64_t from = offset->value_or(0);
  if (from > store_.max_bytes() || (content_length && *content_length > store_.max_bytes() - from)) {
    out.error = too_large();
    return out;
  }
  auto file = store_.begin(name, *offset);
  if (!file) {
    out.error = file.error().code == ErrorCode::kInvalidArgument ? bad_request(file.error()) : error_response(file.error());
    return out;
  }
  out.file = std::move(*file);
  out.body_limit = store_.max_bytes() - from;
  return out;
}

ApiResponse UploadRoutes::finished(UploadFile& file) {
  auto s = file.finish();
  if (!s) return error_response(s.error());
  return json_ok(status_json(*s), 201);
}

ApiResponse UploadRoutes::post_whole(const std::string& query, const std::string& body) {
  UploadStart start = begin(query, body.size());
  if (start.error) return std::move(*start.error);
  if (auto w = start.file->write(body.data(), body.size()); !w) return error_response(w.error());
  return finished(*start.file);
}

ApiResponse UploadRoutes::status(const std::string& name) {
  auto s = store_.status(name);
  if (!s) return s.error().code == ErrorCode::kInvalidArgument ? bad_request(s.error()) : error_response(s.error());
  ApiResponse a = json_ok(status_json(*s));
  a.headers.emplace_back("Upload-Offset", std::to_string(s->bytes));
  return a;
}

}  // namespace vigil
