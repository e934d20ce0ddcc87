// Helpers shared by the tests: paths from the build, process execution.
#pragma once

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>

namespace vigil::test {

struct ProcessResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a shell command; stdout and stderr captured separately (stderr via a temp file).
inline ProcessResult run_process(const std::string& command) {
  std::filesystem::create_directories(VIGIL_TEST_TMP);
  const std::string err_file = std::string(VIGIL_TEST_TMP) + "/stderr." + std::to_string(::getpid()) + ".txt";
  ProcessResult r;
  FILE* p = ::popen((command + " 2>" + err_file).c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* e = std::fopen(err_file.c_str(), "r")) {
    while ((n = std::fread(buf.data(), 1, buf.size(), e)) > 0) r.err.append(buf.data(), n);
    std::fclose(e);
  }
  std::filesystem::remove(err_file);
  return r;
}

inline std::string tmp_dir(const std::string& name) {
  const std::filesystem::path p = std::filesystem::path(VIGIL_TEST_TMP) / name;
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace vigil::test
