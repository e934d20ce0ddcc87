# Finds the few OpenCV modules Vigil uses (core, imgproc, imgcodecs) from
# Debian's per-module -dev packages, which ship no CMake config.
# Defines imported targets OpenCV::core, OpenCV::imgproc, OpenCV::imgcodecs.
find_path(OpenCVModules_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
set(_ocv_vars OpenCVModules_INCLUDE_DIR)
foreach(_m core imgproc imgcodecs)
  find_library(OpenCVModules_${_m}_LIBRARY NAMES opencv_${_m})
  list(APPEND _ocv_vars OpenCVModules_${_m}_LIBRARY)
endforeach()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenCVModules REQUIRED_VARS ${_ocv_vars}
  FAIL_MESSAGE "OpenCV core/imgproc/imgcodecs not found: run scripts/setup.sh")
if(OpenCVModules_FOUND)
  foreach(_m core imgproc imgcodecs)
    if(NOT TARGET OpenCV::${_m})
      add_library(OpenCV::${_m} SHARED IMPORTED)
      set_target_properties(OpenCV::${_m} PROPERTIES
        IMPORTED_LOCATION "${OpenCVModules_${_m}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${OpenCVModules_INCLUDE_DIR}")
    endif()
  endforeach()
  # imgproc and imgcodecs are built on core (cv::Mat): their users link it too.
  foreach(_m imgproc imgcodecs)
    set_property(TARGET OpenCV::${_m} APPEND PROPERTY INTERFACE_LINK_LIBRARIES OpenCV::core)
  endforeach()
endif()
