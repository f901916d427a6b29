// An output file written under a temporary name in the target's folder
// (".name.tmp-<pid>-<n>") and renamed over the target by commit(). Destroyed
// without commit() it removes the temporary, so a failed write never leaves a
// partial file and never touches an existing target.
#pragma once

#include <string>

namespace sira::io {

class AtomicOutput {
 public:
  explicit AtomicOutput(std::string target);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& target() const { return target_; }
  const std::string& temp_path() const { return temp_; }
  void commit();  // rename the temporary over the target

 private:
  std::string target_;
  std::string temp_;
  bool committed_ = false;
};

}  // namespace sira::io
