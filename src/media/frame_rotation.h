// Display rotation: containers (MP4/MOV from phones, some cameras) store
// pictures as encoded and a display matrix saying how to turn them for
// display. VideoSource applies the quarter turn to every decoded frame, so
// frames, boxes and every output use the display orientation.
// Pure functions; rotate_frame allocates a new frame and touches nothing else.
#pragma once

#include <cstdint>
#include <utility>

#include "core/error.h"

struct AVFrame;

namespace vigil {

// Clockwise quarter turns applied to decoded pictures before display.
enum class Rotation { k0 = 0, k90 = 90, k180 = 180, k270 = 270 };

// From FFmpeg's av_display_rotation_get() (the matrix's rotation in degrees,
// counterclockwise, NaN without a matrix) to the clockwise turn a player
// applies, rounded to the nearest quarter turn (as ffmpeg's autorotate does).
Rotation display_rotation_from_ccw_degrees(double ccw_degrees);

// A w x h picture once turned: (h, w) for 90 and 270.
std::pair<int, int> rotated_size(int w, int h, Rotation r);

// Where the pixel (x, y) of a w x h picture lands once turned.
std::pair<int, int> rotate_point(int x, int y, int w, int h, Rotation r);

// Turns one image plane of w x h elements, each `bytes` bytes wide (1 for
// 8-bit planes, 2 for NV12's interleaved chroma or 16-bit samples, 3 for
// RGB24), from src into dst (rotated_size(w, h, r), dst_stride bytes a row).
void rotate_plane(const std::uint8_t* src, int src_stride, int w, int h, int bytes, std::uint8_t* dst, int dst_stride,
                  Rotation r);

// A new frame holding `frame` turned by r (props copied). Formats whose
// planes can be turned element by element (planar YUV with equal horizontal
// and vertical subsampling for 90/270, NV12/NV21, gray, packed RGB) are turned
// as they are; others (4:2:2, packed YUYV, ...) are first converted to
// yuv420p. The caller owns the result (av_frame_free). An error names the
// pixel format it cannot handle.
Result<AVFrame*> rotate_frame(const AVFrame* frame, Rotation r);

}  // namespace vigil
