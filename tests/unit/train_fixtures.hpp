// What the libtorch training tests (test_train.cpp, test_qat.cpp) share: a
// scratch folder per test and the message a training run fails with.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "sira/error.hpp"
#include "sira/train/trainer.hpp"

namespace sira::fixtures {

// A per-test scratch folder (temp/sira_test_<pid>_<name>), removed afterwards.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("sira_test_" + std::to_string(::getpid()) + "_" + name)) {
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

// The sira::Error message train() stops with, or "no error".
inline std::string error_of(const train::TrainOptions& o) {
  try {
    train::train(o);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace sira::fixtures
