// JobDirLock: an exclusive advisory lock (flock) on an analysis job's folder,
// so that two `vigil analyze` processes never drive one job.db at once (each
// would take the other's running chunks for its own and fail them).
//
// The lock is <dir>/job.lock, held open for the lock's lifetime; it holds the
// owner's pid so that the refused process can name it. The file is left in
// place on release (removing it would let a third process lock a new file
// while a second still waits on the old one). The kernel drops the lock when
// the owner exits, however it exits (kill -9 included), so a crash never
// leaves the folder locked.
// Threads: any; the lock belongs to the process (one JobDirLock per folder).
#pragma once

#include <memory>
#include <string>

#include "core/error.h"

namespace vigil {

class JobDirLock {
 public:
  // Creates dir if needed and locks it without waiting. Errors (kBadInput)
  // name the folder: not a directory, cannot be created, or in use by another
  // process (with its pid when the lock file holds one).
  static Result<std::unique_ptr<JobDirLock>> acquire(const std::string& dir);
  ~JobDirLock();
  JobDirLock(const JobDirLock&) = delete;
  JobDirLock& operator=(const JobDirLock&) = delete;

 private:
  explicit JobDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace vigil
