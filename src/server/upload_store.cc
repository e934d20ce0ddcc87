#include "server/upload_store.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

namespace vigil {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 9> kVideoExtensions = {"mp4", "avi", "mkv", "mov", "webm",
                                                               "m4v", "mpg", "mpeg", "ts"};
constexpr const char* kPartSuffix = ".part";

bool allowed_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

bool has_video_extension(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(kVideoExtensions.begin(), kVideoExtensions.end(), ext) != kVideoExtensions.end();
}

std::optional<std::uint64_t> file_size(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  const auto n = fs::file_size(path, ec);
  if (ec) return std::nullopt;
  return n;
}

// Holds NAME in the in-progress set until released (or handed to an UploadFile).
class NameClaim {
 public:
  NameClaim(std::shared_ptr<UploadsInProgress> busy, std::string name) : busy_(std::move(busy)), name_(std::move(name)) {
    std::lock_guard lock(busy_->mu);
    held_ = busy_->names.insert(name_).second;
  }
  ~NameClaim() {
    if (!held_) return;
    std::lock_guard lock(busy_->mu);
    busy_->names.erase(name_);
  }
  NameClaim(const NameClaim&) = delete;
  NameClaim& operator=(const NameClaim&) = delete;
  bool held() const { return held_; }
  void hand_over() { held_ = false; }  // the UploadFile releases it

 private:
  std::shared_ptr<UploadsInProgress> busy_;
  std::string name_;
  bool held_ = false;
};

}  // namespace

Result<std::string> check_upload_name(const std::string& name) {
  const std::string what = "name '" + name + "': ";
  if (name.empty()) return fail(ErrorCode::kInvalidArgument, "name: required (?name=FILE.mp4)");
  if (name.size() > kMaxUploadName)
    return fail(ErrorCode::kInvalidArgument, what + "longer than " + std::to_string(kMaxUploadName) + " characters");
  if (!std::all_of(name.begin(), name.end(), allowed_name_char))
    return fail(ErrorCode::kInvalidArgument, what + "must be a file name of letters, digits, '.', '_' and '-' only");
  if (name.front() == '.') return fail(ErrorCode::kInvalidArgument, what + "must not start with '.'");
  if (!has_video_extension(name)) {
    std::string list;
    for (auto e : kVideoExtensions) list += (list.empty() ? "" : ", ") + std::string(e);
    return fail(ErrorCode::kInvalidArgument, what + "must end in a video extension (" + list + ")");
  }
  return name;
}

UploadFile::UploadFile(std::shared_ptr<UploadsInProgress> busy, UploadStatus status, std::ofstream out)
    : busy_(std::move(busy)), status_(std::move(status)), out_(std::move(out)), offset_(status_.bytes) {}

UploadFile::~UploadFile() {
  out_.close();  // what arrived stays in the .part
  std::lock_guard lock(busy_->mu);
  busy_->names.erase(status_.name);
}

Result<void> UploadFile::write(const char* data, std::size_t n) {
  out_.write(data, static_cast<std::streamsize>(n));
  if (!out_) return fail(ErrorCode::kRuntime, "cannot write " + status_.path + " (disk full?)");
  status_.bytes += n;
  return {};
}

Result<UploadStatus> UploadFile::finish() {
  out_.close();
  if (out_.fail()) return fail(ErrorCode::kRuntime, "cannot write " + status_.path + " (disk full?)");
  std::string final_path = status_.path.substr(0, status_.path.size() - std::string_view(kPartSuffix).size());
  std::error_code ec;
  fs::rename(status_.path, final_path, ec);
  if (ec) return fail(ErrorCode::kRuntime, "cannot rename " + status_.path + ": " + ec.message());
  status_.path = final_path;
  status_.complete = true;
  return status_;
}

UploadStore::UploadStore(std::string media_dir, std::uint64_t max_bytes)
    : media_dir_(std::move(media_dir)), max_bytes_(max_bytes) {}

Result<void> UploadStore::usable() const {
  if (media_dir_.empty())
    return fail(ErrorCode::kConflict, "uploads need a media directory: this server has none (start it with --media-dir)");
  return {};
}

std::string UploadStore::path_of(const std::string& name) const { return (fs::path(media_dir_) / name).string(); }

Result<UploadStatus> UploadStore::status(const std::string& name) const {
  if (auto u = usable(); !u) return fail(u.error());
  if (auto n = check_upload_name(name); !n) return fail(n.error());
  UploadStatus s{name, path_of(name), 0, true};
  if (auto size = file_size(s.path)) {
    s.bytes = *size;
    return s;
  }
  s.path += kPartSuffix;
  s.complete = false;
  if (auto size = file_size(s.path)) {
    s.bytes = *size;
    return s;
  }
  return fail(ErrorCode::kNotFound, "upload '" + name + "' does not exist (no file and no .part)");
}

Result<std::unique_ptr<UploadFile>> UploadStore::begin(const std::string& name, std::optional<std::uint64_t> offset) {
  if (auto u = usable(); !u) return fail(u.error());
  if (auto n = check_upload_name(name); !n) return fail(n.error());
  NameClaim claim(busy_, name);
  if (!claim.held())
    return fail(ErrorCode::kConflict, "'" + name + "' is being uploaded by another request right now");
  UploadStatus s{name, path_of(name), 0, false};
  std::error_code ec;
  if (fs::exists(s.path, ec))
    return fail(ErrorCode::kConflict, "'" + name + "' exists in the media directory already (choose another name)");
  s.path += kPartSuffix;
  const std::uint64_t stored = file_size(s.path).value_or(0);
  if (!offset && stored > 0)
    return fail(ErrorCode::kConflict, "'" + name + "' is partly uploaded (" + std::to_string(stored) +
                                          " bytes): continue with offset=" + std::to_string(stored) +
                                          " or start over with offset=0");
  if (offset && *offset != 0 && *offset != stored)
    return fail(ErrorCode::kConflict, "offset " + std::to_string(*offset) + " does not match the " +
                                          std::to_string(stored) + " bytes stored of '" + name +
                                          "' (HEAD /api/uploads/" + name + " tells them)");
  const bool append = offset && *offset != 0;
  std::ofstream out(s.path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  if (!out) return fail(ErrorCode::kRuntime, "cannot open " + s.path + " for writing");
  s.bytes = append ? stored : 0;
  auto file = std::make_unique<UploadFile>(busy_, std::move(s), std::move(out));
  claim.hand_over();  // the file releases the name
  return file;
}

}  // namespace vigil
