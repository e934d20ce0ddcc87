# Finds ONNX Runtime (C/C++ API) as installed by scripts/setup.sh into
# third_party/onnxruntime/{include,lib}, or in a prefix given by
# ONNXRUNTIME_ROOT. Defines the imported target OnnxRuntime::OnnxRuntime.
#
# VIGIL_GPU (AUTO, ON, OFF): the build with the CUDA and TensorRT providers
# that `make setup GPU=1` puts in VIGIL_ORT_GPU_ROOT (default
# third_party/onnxruntime-gpu, scripts/setup_gpu.sh). AUTO uses it when it is
# there, ON requires it, OFF never uses it. ONNXRUNTIME_ROOT wins over both.
# OnnxRuntime_GPU is TRUE when the GPU folder was taken.
set(VIGIL_GPU AUTO CACHE STRING "ONNX Runtime with CUDA/TensorRT providers: AUTO (when installed), ON, OFF")
set_property(CACHE VIGIL_GPU PROPERTY STRINGS AUTO ON OFF)
set(VIGIL_ORT_GPU_ROOT ${PROJECT_SOURCE_DIR}/third_party/onnxruntime-gpu CACHE PATH
  "The GPU build of ONNX Runtime (make setup GPU=1)")
set(_ort_gpu_present FALSE)
if(EXISTS ${VIGIL_ORT_GPU_ROOT}/lib/libonnxruntime_providers_cuda.so AND EXISTS ${VIGIL_ORT_GPU_ROOT}/include/onnxruntime_cxx_api.h)
  set(_ort_gpu_present TRUE)
endif()
if(VIGIL_GPU STREQUAL "ON" AND NOT _ort_gpu_present)
  message(FATAL_ERROR "VIGIL_GPU=ON but ${VIGIL_ORT_GPU_ROOT} holds no GPU ONNX Runtime: run `make setup GPU=1`")
endif()
set(OnnxRuntime_GPU FALSE)
if(ONNXRUNTIME_ROOT OR DEFINED ENV{ONNXRUNTIME_ROOT})
  set(_ort_hints ${ONNXRUNTIME_ROOT} $ENV{ONNXRUNTIME_ROOT})
elseif(_ort_gpu_present AND NOT VIGIL_GPU STREQUAL "OFF")
  set(_ort_hints ${VIGIL_ORT_GPU_ROOT})
  set(OnnxRuntime_GPU TRUE)
else()
  set(_ort_hints ${PROJECT_SOURCE_DIR}/third_party/onnxruntime)
endif()
# A different choice than the cached one (GPU package installed or removed,
# VIGIL_GPU changed): look again.
if(NOT "${_ort_hints}" STREQUAL "${_OnnxRuntime_HINTS_USED}")
  unset(OnnxRuntime_INCLUDE_DIR CACHE)
  unset(OnnxRuntime_LIBRARY CACHE)
  set(_OnnxRuntime_HINTS_USED "${_ort_hints}" CACHE INTERNAL "")
endif()
find_path(OnnxRuntime_INCLUDE_DIR onnxruntime_cxx_api.h
  HINTS ${_ort_hints} PATH_SUFFIXES include include/onnxruntime NO_DEFAULT_PATH)
find_library(OnnxRuntime_LIBRARY NAMES onnxruntime libonnxruntime.so.1
  HINTS ${_ort_hints} PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OnnxRuntime
  REQUIRED_VARS OnnxRuntime_LIBRARY OnnxRuntime_INCLUDE_DIR
  FAIL_MESSAGE "ONNX Runtime not found: run scripts/setup.sh (or set ONNXRUNTIME_ROOT)")
if(OnnxRuntime_FOUND AND NOT TARGET OnnxRuntime::OnnxRuntime)
  add_library(OnnxRuntime::OnnxRuntime SHARED IMPORTED)
  set_target_properties(OnnxRuntime::OnnxRuntime PROPERTIES
    IMPORTED_LOCATION "${OnnxRuntime_LIBRARY}"
    IMPORTED_SONAME "libonnxruntime.so.1"
    INTERFACE_INCLUDE_DIRECTORIES "${OnnxRuntime_INCLUDE_DIR}")
  get_filename_component(OnnxRuntime_LIBRARY_DIR "${OnnxRuntime_LIBRARY}" DIRECTORY)
  if(OnnxRuntime_GPU)
    message(STATUS "ONNX Runtime: GPU build (CUDA, TensorRT providers) in ${OnnxRuntime_LIBRARY_DIR}")
  endif()
endif()
mark_as_advanced(OnnxRuntime_INCLUDE_DIR OnnxRuntime_LIBRARY)
