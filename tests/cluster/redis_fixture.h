// A real redis-server for tests: started on 127.0.0.1 on a free port with its
// config and data in a temp dir, stopped (SIGTERM) or killed (SIGKILL) and
// started again on the same port and dir (AOF on: what it had comes back).
// Also ChildProcess (fork/exec with a log file) and free_port(), for tests
// that start more processes (vigil worker, vigil run --node).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
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

// A child process (argv[0] is the program path), stdout and stderr to `log`;
// killed with SIGKILL by the destructor if still running.
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv, const std::string& log = "/dev/null") {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
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

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// redis-server on 127.0.0.1:port() with dir `dir` (redis.conf, appendonly.aof, redis.log).
class RedisServer {
 public:
  // extra_conf: more redis.conf lines (e.g. "requirepass secret\n").
  explicit RedisServer(std::string dir, bool aof = true, std::string extra_conf = {})
      : dir_(std::move(dir)), port_(free_port()), aof_(aof), extra_conf_(std::move(extra_conf)) {
    std::filesystem::create_directories(dir_);
  }
  ~RedisServer() { kill(); }

  // Starts it (again) and waits until it accepts connections.
  bool start() {
    const std::string conf = dir_ + "/redis.conf";
    {
      std::ofstream f(conf);
      f << "port " << port_ << "\nbind 127.0.0.1\nprotected-mode no\ndir " << dir_ << "\nsave \"\"\n"
        << "appendonly " << (aof_ ? "yes" : "no") << "\nappendfsync always\n" << extra_conf_;
    }
    child_ = std::make_unique<ChildProcess>(std::vector<std::string>{"/usr/bin/redis-server", conf}, dir_ + "/redis.log");
    return eventually([&] { return port_open(port_); }, std::chrono::seconds(10));
  }
  // SIGTERM: a clean shutdown (the AOF is complete).
  void stop() {
    if (child_) child_->signal(SIGTERM);
    child_.reset();
  }
  void kill() {
    if (child_) child_->signal(SIGKILL);
    child_.reset();
  }
  int port() const { return port_; }
  std::string url(int db = 0) const { return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int port_;
  bool aof_;
  std::string extra_conf_;
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace vigil::test
