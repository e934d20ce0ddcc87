// Processes and ports for tests that start real programs (vigil, servers)
// on 127.0.0.1: free_port(), port_open(), ChildProcess (fork/exec with a log).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "wait.h"

namespace vigil::test {

inline int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

// A child process (argv[0] is the program path), stdout and stderr to `log`
// (appended to, or emptied first with kTruncate); killed with SIGKILL by the
// destructor if still running.
class ChildProcess {
 public:
  enum LogMode { kAppend, kTruncate };
  explicit ChildProcess(std::vector<std::string> argv, const std::string& log = "/dev/null", LogMode mode = kAppend) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | (mode == kTruncate ? O_TRUNC : O_APPEND), 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() { signal(SIGKILL); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Sends `sig` and reaps the process; its exit code (-1 if killed by a signal).
  int signal(int sig) {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, sig);
    return wait();
  }
  // Waits for the process to end; its exit code (-1 if killed by a signal).
  int wait() {
    if (pid_ <= 0) return exit_code_;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_code_;
  }
  // True once the process ended (reaped here).
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return true;
  }
  pid_t pid() const { return pid_; }
  // Sends `sig` only (SIGHUP: the process goes on).
  void send(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // SIGTERM, then its exit code once it ended within `limit`; -1 if killed
  // by a signal, -2 if still running then (it is SIGKILLed later).
  int terminate_within(std::chrono::seconds limit) {
    send(SIGTERM);
    if (!eventually([&] { return exited(); }, limit)) return -2;
    return exit_code_;
  }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace vigil::test
