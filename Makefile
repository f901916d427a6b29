# The two set-up commands of the README:
#   make demo   installs what is missing, builds in Release, denoises the shipped sample
#   make test   installs what is missing, builds in Release, runs the whole test suite
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build demo test test-asan test-tsan fuzz bench clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# The suite under AddressSanitizer + UndefinedBehaviorSanitizer (no libtorch: its
# prebuilt library is not instrumented and only the parsers/kernels matter here).
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSIRA_SANITIZE=ON -DSIRA_WITH_TORCH=OFF -DSIRA_BUILD_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 1800

# ThreadSanitizer over the multi-threaded paths (docs/robustness.md): stack streaming
# (reader, engine and writer threads), sira serve (receiver, worker, publisher),
# atomic output under signals, concurrent writers. OMP_THREAD_LIMIT=1: libgomp is
# not instrumented, so OpenMP regions would all be reported; the threads checked
# are sira's own (std::thread).
TSAN_TESTS ?= Stream|stream|Serve|serve|Atomic|kill|concurrent
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSIRA_TSAN=ON -DSIRA_WITH_TORCH=OFF -DSIRA_WITH_PYTHON=OFF -DSIRA_BUILD_BENCH=OFF
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target sira sira_unit_tests
	cd $(TSAN_BUILD) && OMP_THREAD_LIMIT=1 TSAN_OPTIONS=halt_on_error=1:suppressions=$(CURDIR)/tests/tsan.supp \
	  ctest --output-on-failure -j $(JOBS) --timeout 1800 -R "$(TSAN_TESTS)" -E "^fuzz\\."

# Every parser under libFuzzer + ASan/UBSan, FUZZ_SECONDS each (docs/robustness.md).
fuzz: deps  # FUZZ_TARGETS="hdf5 tiff" for some targets only
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSIRA_FUZZ=ON -DSIRA_WITH_TORCH=OFF -DSIRA_WITH_PYTHON=OFF -DSIRA_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
	bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	@bash bench/compare_peers $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD)
