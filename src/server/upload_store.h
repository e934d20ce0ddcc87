// UploadStore: videos uploaded through POST /api/uploads (docs/api.md,
// "Uploads"), written into the media directory.
//
// An upload of NAME writes "NAME.part" and renames it to NAME when the whole
// body has arrived, so a file that exists is always complete. A connection
// that ends early leaves the .part: the client asks how many bytes it holds
// (status()) and sends the rest with that offset. A name is a basename of
// [A-Za-z0-9._-], at most kMaxUploadName characters, not starting with '.',
// ending in a video extension (mp4, avi, mkv, mov, webm, m4v, mpg, mpeg, ts).
// An existing NAME is never overwritten; one NAME is written by one
// connection at a time.
// Threads: any, at the same time. An UploadFile may outlive its store.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/error.h"

namespace vigil {

inline constexpr std::size_t kMaxUploadName = 200;

// NAME itself when it is a valid upload name, else kInvalidArgument naming it.
Result<std::string> check_upload_name(const std::string& name);

struct UploadStatus {
  std::string name;
  std::string path;       // the file (complete) or its .part
  std::uint64_t bytes = 0;  // stored so far
  bool complete = false;    // NAME exists (bytes = its size)
};

// The names being written now; shared by the store and its open files.
struct UploadsInProgress {
  std::mutex mu;
  std::set<std::string> names;
};

// One upload being written: bytes go to NAME.part; finish() renames it.
// Destroyed unfinished, it keeps the .part for a restart.
class UploadFile {
 public:
  UploadFile(std::shared_ptr<UploadsInProgress> busy, UploadStatus status, std::ofstream out);
  ~UploadFile();
  UploadFile(const UploadFile&) = delete;
  UploadFile& operator=(const UploadFile&) = delete;

  Result<void> write(const char* data, std::size_t n);
  // Closes and renames NAME.part to NAME; the status of the complete file.
  Result<UploadStatus> finish();
  std::uint64_t offset() const { return offset_; }  // where this request started
  std::uint64_t bytes() const { return status_.bytes; }  // stored so far
  const std::string& name() const { return status_.name; }

 private:
  std::shared_ptr<UploadsInProgress> busy_;
  UploadStatus status_;
  std::ofstream out_;
  std::uint64_t offset_;
};

class UploadStore {
 public:
  // media_dir "" = no uploads (every call answers kConflict saying so).
  UploadStore(std::string media_dir, std::uint64_t max_bytes);

  std::uint64_t max_bytes() const { return max_bytes_; }
  // NAME complete, or its .part; kNotFound when neither exists.
  Result<UploadStatus> status(const std::string& name) const;
  // Starts writing NAME at `offset`: none = a new upload (refused when a
  // .part with bytes exists), 0 = start over, N = continue a .part holding
  // exactly N bytes. kConflict: NAME exists, another connection writes it,
  // the offset does not match, no media directory; kInvalidArgument: the name.
  Result<std::unique_ptr<UploadFile>> begin(const std::string& name, std::optional<std::uint64_t> offset);

 private:
  Result<void> usable() const;
  std::string path_of(const std::string& name) const;

  const std::string media_dir_;
  const std::uint64_t max_bytes_;
  std::shared_ptr<UploadsInProgress> busy_ = std::make_shared<UploadsInProgress>();
};

}  // namespace vigil
