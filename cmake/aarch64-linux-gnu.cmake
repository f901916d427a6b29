# Cross build for 64-bit ARM Linux (Raspberry Pi 4/5, Jetson, Graviton) with
# Debian's g++-aarch64-linux-gnu and arm64 multiarch -dev packages:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# `make test-aarch64` does it all (scripts/install-cross-deps.sh installs the
# packages) and runs the tests under qemu-aarch64.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Debian's libhdf5-dev is not co-installable across architectures (its helper
# programs are not multi-arch): the arm64 package is unpacked into this folder
# instead, beside the multiarch runtime library libhdf5-103-1:arm64.
set(SIRA_AARCH64_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../build-aarch64-sysroot" CACHE PATH
    "Folder with the unpacked arm64 packages that cannot be installed beside the host's")
get_filename_component(SIRA_AARCH64_SYSROOT "${SIRA_AARCH64_SYSROOT}" ABSOLUTE)
set(CMAKE_FIND_ROOT_PATH "${SIRA_AARCH64_SYSROOT}" /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# HDF5: the host's h5cc would answer with x86-64 paths; search the sysroot instead.
set(HDF5_C_COMPILER_EXECUTABLE /bin/false CACHE FILEPATH "not used when cross-compiling")
set(HDF5_C_INCLUDE_DIR "${SIRA_AARCH64_SYSROOT}/usr/include/hdf5/serial" CACHE PATH "")
set(HDF5_hdf5_LIBRARY_RELEASE /usr/lib/aarch64-linux-gnu/libhdf5_serial.so.103 CACHE FILEPATH "")

# pkg-config must read the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Tests and helper programs run under user-mode QEMU. The CPU model comes from
# QEMU_CPU at run time (max: with dot product and SVE; cortex-a57: plain ARMv8.0 NEON).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)

# Libraries unpacked into the sysroot (XNNPACK and its libcpuinfo) are found at run
# time through the executables' rpath; DT_RPATH (not the newer DT_RUNPATH) also
# applies to the libraries' own dependencies (libXNNPACK -> libcpuinfo).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--disable-new-dtags")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,--disable-new-dtags")
