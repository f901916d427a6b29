// Writers go through a temporary file: a failed write leaves no new file and
// never damages an existing target.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <optional>
#include <thread>

#include "sira/hdf5.hpp"
#include "sira/io.hpp"
#include "test_io_helpers.hpp"

namespace {

using sira::DType;
using namespace sira::test;

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(IoAtomicWrite, FailedWritesLeaveNoFileAndKeepTheOldTarget) {
  ScratchDir dir;
  sira::Stack bad = sample_stack(2, 4, 4, DType::u8);
  bad.data.back() = 300.0f;  // out of range for uint8, found only at the end
  for (const char* name : {"out.tif", "out.npy", "out.h5"}) {
    const std::string file = dir.file(name);
    const std::string spec = file + (std::string(name).ends_with(".h5") ? ":/d" : "");
    expect_error([&] { sira::write_stack(spec, bad, DType::u8); }, {name, "300", "out of range"});
    EXPECT_FALSE(std::filesystem::exists(file)) << name;
    EXPECT_TRUE(dir.entries().empty()) << "temporary left behind for " << name;

    sira::write_stack(spec, sample_stack(1, 3, 3, DType::u8));
    const std::string before = contents(file);
    expect_error([&] { sira::write_stack(spec, bad, DType::u8); }, {name});
    EXPECT_EQ(contents(file), before) << name << " was modified by a failed write";
    EXPECT_EQ(dir.entries().size(), 1u) << name;
    std::filesystem::remove(file);
  }
}

TEST(IoAtomicWrite, RefusesMissingFoldersAndFolderTargets) {
  ScratchDir dir;
  const sira::Stack s = sample_stack(1, 2, 2, DType::u8);
  expect_error([&] { sira::write_stack(dir.file("no/such/dir/x.tif"), s); },
               {"x.tif", "does not exist"});
  expect_error([&] { sira::write_stack(dir.file("no/x.h5") + ":/d", s); }, {"x.h5", "does not exist"});
  std::filesystem::create_directory(dir.file("folder.npy"));
  expect_error([&] { sira::write_stack(dir.file("folder.npy"), s); }, {"folder.npy", "folder"});
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"folder.npy"});
}

TEST(IoAtomicWrite, ReplacesAnExistingTargetWhole) {
  ScratchDir dir;
  const std::string f = dir.file("r.tif");
  sira::write_stack(f, sample_stack(5, 20, 20, DType::f32));
  sira::write_stack(f, sample_stack(1, 2, 3, DType::u8));
  const sira::Stack back = sira::read_stack(f);
  EXPECT_EQ(back.depth, 1u);
  EXPECT_EQ(back.dtype, DType::u8);
  EXPECT_EQ(dir.entries().size(), 1u);
}

}  // namespace

namespace {

// The pid of a process that has exited (and was reaped).
long dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

std::string this_host() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

// A SIGKILLed writer leaves its temporary; the next writer of the same target on
// this host removes it once its pid is gone, and nothing else.
TEST(IoAtomicWrite, TemporariesOfDeadProcessesAreReclaimedByTheNextWriter) {
  ScratchDir dir;
  const long dead = dead_pid();
  const std::string host = this_host();
  ASSERT_EQ(host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"),
            std::string::npos) << "host name needs the test to sanitise it: " << host;
  const std::vector<std::string> stale{".out.tif.tmp-" + std::to_string(dead) + "-0@" + host,
                                       ".out.tif.tmp-" + std::to_string(dead) + "-7"};  // older name
  const std::vector<std::string> kept{
      ".out.tif.tmp-1-0@" + host,                                  // pid 1 is running
      ".out.tif.tmp-" + std::to_string(dead) + "-0@another-host",  // not ours to judge
      ".other.tif.tmp-" + std::to_string(dead) + "-0@" + host,     // another target
      ".out.tif.tmp-x-0@" + host};                                 // not a name sira makes
  for (const auto& name : stale) std::ofstream(dir.file(name)) << "partial";
  for (const auto& name : kept) std::ofstream(dir.file(name)) << "partial";

  testing::internal::CaptureStderr();
  sira::write_stack(dir.file("out.tif"), sample_stack(2, 3, 3, DType::u8));
  const std::string said = testing::internal::GetCapturedStderr();

  std::vector<std::string> expected = kept;
  expected.push_back("out.tif");
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> now = dir.entries();
  std::sort(now.begin(), now.end());
  EXPECT_EQ(now, expected);
  for (const auto& name : stale) EXPECT_NE(said.find(name), std::string::npos) << said;
  EXPECT_NE(said.find("no longer running"), std::string::npos) << said;
  EXPECT_EQ(sira::read_stack(dir.file("out.tif")).data, sample_stack(2, 3, 3, DType::u8).data);
}

// Debian's HDF5 is thread-safe, so its automatic error printing is per thread:
// failures on a thread that never called HDF5 before, and an H5File destroyed
// on another thread than the one that made it, print nothing of HDF5's own.
TEST(IoHdf5Errors, SilentOnEveryThread) {
  ScratchDir dir;
  std::ofstream(dir.file("fake.h5")) << "not hdf5";
  sira::write_stack(dir.file("real.h5") + ":/d", sample_stack(2, 3, 3, DType::u8));
  std::optional<sira::H5File> made;
  std::thread([&] { made.emplace(sira::H5File::create(dir.file("new.h5"))); }).join();

  std::fflush(stderr);
  const int saved = ::dup(2);
  const std::string log = dir.file("stderr.txt");
  std::FILE* sink = std::fopen(log.c_str(), "w");
  ::dup2(::fileno(sink), 2);
  int errors = 0;
  std::thread([&] {
    for (auto op : std::vector<std::function<void()>>{
             [&] { sira::H5File::open(dir.file("fake.h5")); },
             [&] { sira::H5File::open(dir.file("real.h5")).read("/missing"); },
             [&] { sira::H5File::open(dir.file("real.h5")).read_vector("/d"); },
             [&] { sira::H5File::open(dir.file("real.h5")).attr_number("/d", "none"); },
             [&] { made.reset(); throw sira::Error("destroyed"); }}) {
      try {
        op();
      } catch (const sira::Error&) {
        ++errors;
      }
    }
  }).join();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(sink);
  std::ifstream in(log);
  const std::string printed{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_EQ(errors, 5);
  EXPECT_EQ(printed, "") << "HDF5 printed on a fresh thread";
}
