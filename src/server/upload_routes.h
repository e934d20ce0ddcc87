// The upload routes: POST /api/uploads?name=FILE[&offset=N] (the raw body is
// the file) and GET/HEAD /api/uploads/{name} (docs/api.md, "Uploads"), over
// an UploadStore in the media directory.
//
// HttpServer streams an upload's body to disk (begin(), then the file's
// write() per piece, then finished()); post_whole() takes a body already in
// memory (the router called in-process). Sizes: offset + body at most
// max_bytes (413 naming the limit).
// Threads: any, at the same time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server/api_response.h"
#include "server/upload_store.h"

namespace vigil {

// An upload the server may start reading: an error to answer instead, or the
// file to write and the most body bytes it may take.
struct UploadStart {
  std::optional<ApiResponse> error;
  std::unique_ptr<UploadFile> file;
  std::uint64_t body_limit = 0;
};

class UploadRoutes {
 public:
  UploadRoutes(std::string media_dir, std::uint64_t max_bytes) : store_(std::move(media_dir), max_bytes) {}

  // query: the request's raw query; content_length: none when chunked.
  UploadStart begin(const std::string& query, std::optional<std::uint64_t> content_length);
  // The whole body arrived: rename, 201 {"name", "path", "bytes", "complete"}.
  ApiResponse finished(UploadFile& file);
  // 413 naming the limit.
  ApiResponse too_large() const;
  ApiResponse post_whole(const std::string& query, const std::string& body);
  // {"name", "path", "bytes", "complete"}, and the header Upload-Offset: bytes.
  ApiResponse status(const std::string& name);

 private:
  UploadStore store_;
};

}  // namespace vigil
