// Output decoders: turn the raw outputs of a detection model into boxes in
// model-input pixels, then filter (confidence, classes) and run NMS.
// The decoder is chosen by ModelInfo::arch (from output shapes + metadata).
// Pure functions, no threads.
#pragma once

#include <vector>

#include "core/detection.h"
#include "core/error.h"
#include "core/tensor.h"
#include "inference/model_info.h"

namespace vigil {

struct DecodeOptions {
  float conf = 0.35F;            // minimum score kept
  float iou = 0.5F;              // NMS IoU threshold
  int max_det = 100;             // detections kept per image after NMS
  std::vector<bool> class_mask;  // [num_classes]: true = keep; empty = keep all
  bool class_agnostic = false;   // NMS across classes
};

// outputs: in ModelInfo::outputs order, batch-major, of one call at `input`
// (W x H; {} = the nominal size); batch_idx selects the image. NanoDet grids
// are ceil(W / stride) x ceil(H / stride) cells of that call; YOLO outputs
// carry their own count. Returns detections in model-input pixels, sorted by
// score, descending.
std::vector<Detection> decode_detections(const ModelInfo& info, const std::vector<Tensor>& outputs, int batch_idx,
                                         const DecodeOptions& options, InputSize input = {});

// The outputs of a call at `input` have the shapes the decoder reads: one per
// ModelInfo output, NanoDet heads with grid_w x grid_h cells. An error names
// the output and both shapes.
Result<void> check_output_shapes(const ModelInfo& info, const std::vector<Tensor>& outputs, InputSize input);

}  // namespace vigil
