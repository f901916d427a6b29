# The two set-up commands of the README:
#   make demo   installs what is missing, builds in Release, denoises the shipped sample
#   make test   installs what is missing, builds in Release, runs the whole test suite
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
MPI_BUILD  ?= build-mpi
AARCH64_BUILD ?= build-aarch64
AARCH64_SYSROOT ?= build-aarch64-sysroot
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build demo test test-mpi test-asan test-tsan test-aarch64 fuzz bench clean

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
	$(MAKE) test-mpi

# sira denoise and sira recon under mpirun (docs/scale.md): a second build against OpenMPI and
# parallel HDF5, of the CLI alone (no libtorch, Python module, serve or benchmarks),
# and its MPI tests, which compare 2 ranks with the serial build above.
test-mpi: deps
	cmake -S . -B $(MPI_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIRA_MPI=ON \
	  -DSIRA_WITH_TORCH=OFF -DSIRA_WITH_PYTHON=OFF -DSIRA_WITH_SERVE=OFF -DSIRA_BUILD_BENCH=OFF \
	  -DSIRA_SERIAL_EXE=$(abspath $(BUILD))/sira
	cmake --build $(MPI_BUILD) -j $(JOBS) --target sira
	cd $(MPI_BUILD) && ctest --output-on-failure --timeout 900 -R '^cli\.test_mpi'

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

# The aarch64 cross build (docs/arm.md) and its tests under qemu-aarch64: the unit
# tests and the comparison with the host build (tests/cross: int8 bit-identical, fp32
# within 1e-5) once on a CPU with the dot-product extension (QEMU_CPU=max, so the SDOT
# kernel runs) and once on a plain ARMv8.0 NEON CPU (cortex-a57: the portable kernel),
# then the command-line and oracle tests of AARCH64_CLI_TESTS on the first CPU. Those
# left out are too slow under emulation (whole 1024-2048² images or many networks:
# denoise_stream, info_halo, bench_cli, oracle.test_engine_torch 650 s; the engine is
# checked on ARM by the unit suite and by the host comparison instead) or measure the
# host rather than sira (peak RSS with QEMU's own memory: preflight_memory; live-serve
# latency and overload lanes: serve_live/page/projections/robust).
# No libtorch, Python module or oneDNN for arm64 (the reference kernels run there).
AARCH64_CPUS ?= max cortex-a57
AARCH64_CLI_TESTS ?= cli\.test_(denoise_errors|conv_kernel_choice|disk_full|hdf5_concurrent_edit|hdf5_corrupt|int8_input_ranges|integer_output|io_bad_input|memory_bombs|model_cli|model_concurrent_init|output_over_input|provenance|quantize_cli|serve_codecs|tomo_recon|tomo_pairs)|oracle\.test_(io_|metrics_skimage|model_torch|tomo_radon|tomo_iradon)|fuzz\.
test-aarch64: build
	bash scripts/install-cross-deps.sh $(AARCH64_SYSROOT)
	cmake -S . -B $(AARCH64_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/aarch64-linux-gnu.cmake -DSIRA_AARCH64_SYSROOT=$(abspath $(AARCH64_SYSROOT)) \
	  -DSIRA_HOST_EXE=$(abspath $(BUILD))/sira \
	  -DSIRA_WITH_TORCH=OFF -DSIRA_WITH_PYTHON=OFF -DSIRA_WITH_ONEDNN=OFF -DSIRA_BUILD_BENCH=OFF
	cmake --build $(AARCH64_BUILD) -j $(JOBS)
	set -e; for cpu in $(AARCH64_CPUS); do echo "== QEMU_CPU=$$cpu: unit tests and the host comparison"; \
	  (cd $(AARCH64_BUILD) && QEMU_CPU=$$cpu ctest --output-on-failure -j $(JOBS) --timeout 900 -R '^[A-Z]|^cross\.'); done
	echo "== QEMU_CPU=$(firstword $(AARCH64_CPUS)): command-line and oracle tests"
	cd $(AARCH64_BUILD) && QEMU_CPU=$(firstword $(AARCH64_CPUS)) ctest --output-on-failure -j $(JOBS) --timeout 900 \
	  -R '$(AARCH64_CLI_TESTS)'

# Every parser under libFuzzer + ASan/UBSan, FUZZ_SECONDS each (docs/robustness.md).
fuzz: deps  # FUZZ_TARGETS="hdf5 tiff" for some targets only
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSIRA_FUZZ=ON -DSIRA_WITH_TORCH=OFF -DSIRA_WITH_PYTHON=OFF -DSIRA_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
	bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	@bash bench/compare_peers $(BUILD)

clean:
	rm -rf $(BUILD) $(MPI_BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD) $(AARCH64_BUILD) $(AARCH64_SYSROOT)
