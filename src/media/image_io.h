// Still-image file input: decode a JPEG/PNG/BMP/... file into a BGR Image.
#pragma once

#include <string>

#include "core/error.h"
#include "core/image.h"

namespace vigil {

// Errors name the path: missing file, a directory, an empty file, not an image.
Result<Image> load_image(const std::string& path);

}  // namespace vigil
