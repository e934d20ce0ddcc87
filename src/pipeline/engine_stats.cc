#include "pipeline/engine_stats.h"

#include <algorithm>
#include <cstring>

#include "core/enum_names.h"

namespace vigil {

namespace {
constexpr EnumName<StreamRunState> kRunStateNames[] = {{StreamRunState::kUp, "up"},
                                                       {StreamRunState::kDown, "down"},
                                                       {StreamRunState::kEnded, "ended"},
                                                       {StreamRunState::kDisabled, "disabled"}};
}  // namespace

const char* to_string(StreamRunState s) { return enum_name<StreamRunState>(kRunStateNames, s); }

StreamRunState run_state_of(const StreamSnapshot& s) {
  if (s.up) return StreamRunState::kUp;
  return s.ended ? StreamRunState::kEnded : StreamRunState::kDown;
}

const StreamSnapshot* EngineStats::find_stream(const std::string& id) const {
  for (const auto& s : streams)
    if (s.id == id) return &s;
  return nullptr;
}

double EngineStats::display_fps_sum() const {
  double fps = 0;
  for (const auto& s : streams) fps += s.display_fps;
  return round3(fps);
}

std::size_t EngineStats::active_streams() const {
  return static_cast<std::size_t>(std::count_if(streams.begin(), streams.end(), [](const auto& s) { return s.up; }));
}

std::vector<std::string> EngineStats::down_streams() const {
  std::vector<std::string> out;
  for (const auto& s : streams)
    if (run_state_of(s) == StreamRunState::kDown) out.push_back(s.id);
  return out;
}

std::array<Stage, kStageCount> stages_by_name() {
  std::array<Stage, kStageCount> out{};
  for (std::size_t i = 0; i < kStageCount; ++i) out[i] = static_cast<Stage>(i);
  std::sort(out.begin(), out.end(), [](Stage a, Stage b) { return std::strcmp(to_string(a), to_string(b)) < 0; });
  return out;
}

}  // namespace vigil
