// A cheap reachability check for a source, used while waiting out the
// reconnect backoff: a TCP connect for network sources, a stat for files and
// devices. It lets a stream come back within a second of its server's return
// while full open attempts stay rate-limited by the backoff.
#pragma once

#include "media/source_url.h"

namespace vigil {

bool endpoint_reachable(const SourceSpec& spec, int timeout_ms);

}  // namespace vigil
