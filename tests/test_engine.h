// The engine the server tests share: the default model on the CPU, one
// looping 20 s file stream `cam1` (every 2nd frame analysed), events in a
// fresh SQLite file under the test tmp dir `dir_name`. Returned once cam1 is
// up (so /healthz is "ok" from the first request), or an error after 10 s.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "pipeline/engine.h"
#include "test_support.h"
#include "wait.h"

namespace vigil::test {

inline Result<std::unique_ptr<Engine>> start_looping_engine(const std::string& dir_name) {
  EngineConfig c;
  c.model.path = VIGIL_DEFAULT_MODEL;
  c.model.device = "cpu";
  c.stats_interval_s = 0;
  const std::string dir = tmp_dir(dir_name);
  for (const char* f : {"/events.db", "/events.db-wal", "/events.db-shm"}) std::filesystem::remove(dir + f);
  c.events.sqlite = dir + "/events.db";
  StreamConfig s = default_stream("cam1", std::string(VIGIL_TEST_VIDEOS_DIR) + "/vtest20.mp4");
  s.loop = true;
  s.every = 2;
  c.streams.push_back(s);
  auto e = Engine::create(c);
  if (!e) return e;
  (*e)->start();
  const auto cam1_up = [&] {
    const EngineStats st = (*e)->stats();
    return !st.streams.empty() && st.streams.front().up;
  };
  if (!eventually(cam1_up, std::chrono::seconds(10))) return fail(ErrorCode::kRuntime, "cam1 did not come up in 10 s");
  return e;
}

}  // namespace vigil::test
