# Vigil: `make demo` and `make test` work on a fresh Debian 12 machine as root.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup build test test-asan test-e2e fuzz fuzz-build demo bench clean

all: build

# Installs whatever is missing (Debian packages, ONNX Runtime, default model,
# test media); a second run changes nothing and takes a few seconds.
# GPU=1: also the CUDA/TensorRT build of ONNX Runtime (README, "Using a GPU").
GPU ?= 0
setup:
	@GPU=$(GPU) ./scripts/setup.sh
	@./scripts/web_setup.sh

# After the build: the default model's INT8 copy (model.precision: int8),
# calibrated by the vigil just built (tools/quantize/README.md); made only
# when missing or older than the model or the quantizer.
INT8_MODEL := models/nanodet-m-416-int8.onnx
build: setup
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@/usr/bin/python3 tools/quantize/qdq_int8.py make --vigil $(BUILD)/vigil --model models/nanodet-m-416.onnx -o $(INT8_MODEL)

test: build fuzz-build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	@fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_TEST_SECONDS)

# The dashboard in a real browser (also part of `make test`).
test-e2e: build
	@tests/e2e/run_dashboard_test.sh $(BUILD)

# AddressSanitizer + UndefinedBehaviorSanitizer build of the unit tests.
test-asan: setup
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS) --target unit_tests decoder_tests
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS) -L unit

# libFuzzer harnesses (fuzz/, docs/fuzzing.md): clang-14 with ASan + UBSan in
# $(FUZZ_BUILD). `make fuzz` runs each harness FUZZ_SECONDS on a copy of the
# seed corpus (fuzz/corpus/); `make test` runs each FUZZ_TEST_SECONDS. Either
# fails when a harness finds a crash, leak, timeout or out-of-memory.
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 30
FUZZ_CMAKE_FLAGS ?=
fuzz-build: setup
	@CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -DVIGIL_FUZZ=ON -DVIGIL_BUILD_TESTS=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo $(FUZZ_CMAKE_FLAGS) >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers

fuzz: fuzz-build
	@fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Today's demo: detection on the sample photos (annotated copies in out/),
# then the live engine on 4 looping streams of vtest.avi with a zone and a
# line, events on the log (Ctrl-C stops it; DEMO_SECONDS=N stops it after N s).
DEMO_SECONDS ?= 0
demo: build
	@mkdir -p out
	$(BUILD)/vigil detect /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/person.jpg \
	  /usr/share/darknet/data/horses.jpg /usr/share/darknet/data/giraffe.jpg -o out
	@echo "annotated images written to $(CURDIR)/out/"
	$(BUILD)/vigil run --duration $(DEMO_SECONDS) --events out/events.jsonl --stats out/stats.json

bench: build
	$(BUILD)/vigil bench model --batch 1,2,4,8 --threads 1,2
	$(BUILD)/vigil_bench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) out
