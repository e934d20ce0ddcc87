#include "media/image_io.h"

#include <cstring>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>

namespace vigil {

Result<Image> load_image(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail(ErrorCode::kNotFound, path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) return fail(ErrorCode::kBadInput, path + ": is a directory");
  if (std::filesystem::file_size(path, ec) == 0) return fail(ErrorCode::kBadInput, path + ": the file is empty");
  cv::Mat mat;
  try {
    mat = cv::imread(path, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return fail(ErrorCode::kBadInput, path + ": cannot decode the image: " + e.what());
  }
  if (mat.empty() || mat.type() != CV_8UC3)
    return fail(ErrorCode::kBadInput, path + ": not a readable image (JPEG, PNG, BMP, TIFF, WebP...)");
  Image img(PixelFormat::kBgr24, mat.cols, mat.rows);
  for (int y = 0; y < mat.rows; ++y) std::memcpy(img.row(y), mat.ptr<std::uint8_t>(y), static_cast<std::size_t>(img.stride()));
  return img;
}

}  // namespace vigil
