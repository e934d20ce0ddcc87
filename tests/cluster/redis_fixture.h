// A real redis-server for tests: started on 127.0.0.1 on a free port with its
// config and data in a temp dir, stopped (SIGTERM) or killed (SIGKILL) and
// started again on the same port and dir (AOF on: what it had comes back).
// With test_process.h (ChildProcess, free_port, port_open) for the tests
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

#include "test_process.h"
#include "wait.h"

namespace vigil::test {

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
