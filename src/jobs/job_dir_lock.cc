#include "jobs/job_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vigil {
namespace {

// The pid written by the holder ("" when it has not written it yet).
std::string read_holder_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.find_first_not_of("0123456789") == std::string::npos ? pid : std::string();
}

}  // namespace

Result<std::unique_ptr<JobDirLock>> JobDirLock::acquire(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    return fail(ErrorCode::kBadInput, "output directory " + dir + ": exists and is not a directory");
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kBadInput, "output directory " + dir + ": " + ec.message());
  const std::string path = (fs::path(dir) / "job.lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::kBadInput, "output directory " + dir + ": cannot create " + path + ": " +
                                                    std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string pid = read_holder_pid(fd);
    // The holder may be writing its pid now: look again for up to 200 ms.
    constexpr int kPidReads = 20;
    constexpr useconds_t kPidReadEveryUs = 10'000;
    for (int i = 0; i < kPidReads && pid.empty() && err == EWOULDBLOCK; ++i) {
      ::usleep(kPidReadEveryUs);
      pid = read_holder_pid(fd);
    }
    ::close(fd);
    if (err != EWOULDBLOCK)
      return fail(ErrorCode::kBadInput, "output directory " + dir + ": cannot lock " + path + ": " + std::strerror(err));
    return fail(ErrorCode::kBadInput, "output directory " + dir + " is in use by another vigil process" +
                                          (pid.empty() ? std::string() : " (pid " + pid + ")") +
                                          "; wait for it to end or choose another -o");
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    // The lock holds; only the pid shown to the next process is missing.
  }
  return std::unique_ptr<JobDirLock>(new JobDirLock(fd));
}

JobDirLock::~JobDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace vigil
