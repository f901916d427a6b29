// A progress bar on stderr for multi-item work, drawn only when stderr is a
// terminal and --quiet is not given.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace sira::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, std::size_t total);
  ~ProgressBar();
  void update(std::size_t done, const std::string& extra = {});
  void finish();

 private:
  std::string label_;
  std::size_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace sira::cli
