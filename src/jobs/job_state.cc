#include "jobs/job_state.h"

#include <array>
#include <utility>

namespace vigil {
namespace {

constexpr std::array<std::pair<JobStatus, const char*>, 5> kJobNames = {{
    {JobStatus::kPending, "pending"},
    {JobStatus::kRunning, "running"},
    {JobStatus::kDone, "done"},
    {JobStatus::kFailed, "failed"},
    {JobStatus::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<ChunkStatus, const char*>, 4> kChunkNames = {{
    {ChunkStatus::kPending, "pending"},
    {ChunkStatus::kRunning, "running"},
    {ChunkStatus::kDone, "done"},
    {ChunkStatus::kFailed, "failed"},
}};

template <class E, std::size_t N>
const char* name_of(const std::array<std::pair<E, const char*>, N>& names, E value) {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return "?";
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, const char*>, N>& names, std::string_view s) {
  for (const auto& [v, name] : names)
    if (s == name) return v;
  return std::nullopt;
}

}  // namespace

const char* to_string(JobStatus s) { return name_of(kJobNames, s); }
const char* to_string(ChunkStatus s) { return name_of(kChunkNames, s); }
const char* api_name(JobStatus s) { return s == JobStatus::kPending ? "queued" : to_string(s); }
std::optional<JobStatus> parse_job_status(std::string_view s) { return value_of(kJobNames, s); }
std::optional<ChunkStatus> parse_chunk_status(std::string_view s) { return value_of(kChunkNames, s); }

}  // namespace vigil
