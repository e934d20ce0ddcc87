// The stream routes: GET/POST /api/streams, GET/PATCH/DELETE
// /api/streams/{id} (docs/api.md, "Streams"). A stream's JSON is its
// config (secrets redacted: URL credentials, the captioner's endpoint
// credentials; never the api_key), its state (up, down, ended, disabled:
// StreamRunState) and its status (EngineStats' snapshot; null when disabled).
//
// Threads: any, at the same time. Changes (POST, PATCH, DELETE) are
// serialised among themselves, so PATCH's read-merge-replace cannot interleave
// with another change.
#pragma once

#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "server/api_response.h"
#include "server/stream_engine.h"

namespace vigil {

class StreamRoutes {
 public:
  // engine must outlive the routes; media_dir: where POSTed file URLs may point ("" = nowhere).
  StreamRoutes(StreamEngine& engine, std::string media_dir) : engine_(engine), media_dir_(std::move(media_dir)) {}

  ApiResponse list();
  ApiResponse get(const std::string& id);
  // 201 with the stream; 400 (body, config, source), 409 (id exists).
  ApiResponse add(const std::string& body);
  // Merges the body into the stored config and restarts the stream with it
  // (`enabled: false` stops it and keeps its config; `true` starts it again),
  // in one replace_stream(); if the engine refuses the new config, the old one runs on.
  ApiResponse patch(const std::string& id, const std::string& body);
  ApiResponse remove(const std::string& id);

 private:
  nlohmann::json stream_json(const std::string& id, const EngineStats& stats) const;

  StreamEngine& engine_;
  const std::string media_dir_;
  std::mutex change_mu_;
};

}  // namespace vigil
