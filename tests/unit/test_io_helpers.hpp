// Shared helpers of the I/O unit tests: a scratch folder per test, stacks with
// known values, and checks on error messages and leftover files.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "sira/error.hpp"
#include "sira/stack.hpp"

namespace sira::test {

namespace fs = std::filesystem;

// A fresh empty folder, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::path(::testing::TempDir()) /
            ("sira_io_" + std::string(info->test_suite_name()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Names of everything in the folder (to spot leftover temporary files).
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
    return names;
  }

 private:
  fs::path path_;
};

// Values covering the dtype's whole range (both ends included); float32 adds
// negatives, fractions, huge and tiny magnitudes, NaN and infinities.
inline Stack sample_stack(std::size_t depth, std::size_t height, std::size_t width, DType t) {
  Stack s(depth, height, width, t);
  const double top = t == DType::u8 ? 255.0 : t == DType::u16 ? 65535.0 : 0.0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (t == DType::f32) {
      static const float specials[] = {-0.0f, 1e-40f, -3.4e38f, 3.4e38f, 0.1f, -7.25f,
                                       std::numeric_limits<float>::quiet_NaN(),
                                       std::numeric_limits<float>::infinity()};
      s.data[i] = i < 8 ? specials[i] : static_cast<float>(i) * 0.37f - 11.0f;
    } else {
      s.data[i] = static_cast<float>(static_cast<std::size_t>(i * 7919) % static_cast<std::size_t>(top + 1));
    }
  }
  if (t != DType::f32) {
    s.data.front() = 0.0f;
    s.data.back() = static_cast<float>(top);
  }
  return s;
}

// Bit-for-bit equality of samples (so NaN and -0.0 count as lossless too).
inline void expect_same_samples(const Stack& a, const Stack& b) {
  ASSERT_EQ(a.depth, b.depth);
  ASSERT_EQ(a.height, b.height);
  ASSERT_EQ(a.width, b.width);
  ASSERT_EQ(a.data.size(), b.data.size());
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    if (std::memcmp(&a.data[i], &b.data[i], sizeof(float)) != 0) {
      ADD_FAILURE() << "sample " << i << ": " << a.data[i] << " vs " << b.data[i];
      return;
    }
  }
}

// Runs `action`, which must throw sira::Error whose message contains every
// one of `parts`.
template <typename Action>
void expect_error(Action action, const std::vector<std::string>& parts) {
  try {
    action();
    ADD_FAILURE() << "no sira::Error thrown (expected one mentioning '" << parts.front() << "')";
  } catch (const sira::Error& e) {
    const std::string message = e.what();
    for (const auto& p : parts)
      EXPECT_NE(message.find(p), std::string::npos) << "'" << p << "' missing from: " << message;
  }
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

inline void truncate_file(const std::string& path, std::uintmax_t size) {
  fs::resize_file(path, size);
}

}  // namespace sira::test
