// The JPEG snapshot of an event: the frame the event happened on, with the
// event's boxes (the track's, or every confirmed track's) drawn in their
// class colours (class_color) and labelled, at the frame's own size.
// Boxes are drawn at least 3 px thick (thicker on large frames) so they
// survive JPEG's 4:2:0 chroma.
// Threads: any (no shared state); meant for the recorder's writer thread.
#pragma once

#include <string>
#include <vector>

#include "core/detection.h"
#include "core/error.h"
#include "media/video_frame.h"

namespace vigil {

// Box thickness of a snapshot of width x height.
int snapshot_box_thickness(int width, int height);

// Writes "<path>" (through "<path>.part" and a rename); errors name the path.
Result<void> write_event_snapshot(const std::string& path, const VideoFrame& frame,
                                  const std::vector<Detection>& boxes, const std::vector<std::string>& class_names,
                                  int quality = 90);

}  // namespace vigil
