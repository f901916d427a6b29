// Which images of a stream belong to the series being served (docs/serve.md,
// "Series"): joining mid-series (the first image, without a start, opens its
// series), a new series id resets the state (a lost start or a new arm), frames
// of an older series or after the end are dropped, duplicate image ids are
// dropped, out-of-order ids are kept and counted. Ids are 64-bit throughout.
// An image whose size differs from its series' is refused as malformed.
// One thread (the receiver) uses it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>

#include "serve/message.hpp"

namespace sira::serve {

struct Verdict {
  bool accept = false;
  const char* drop_reason = nullptr;  // when not accepted (a Counters drop reason)
  bool new_series = false;            // this message opened a series
  bool out_of_order = false;
  std::string note;                   // something worth a log line
};

class SeriesTracker {
 public:
  Verdict start(const Message& m);
  Verdict end(const Message& m);
  Verdict image(const Message& m);  // throws Rejection(kBadSize) on a size that disagrees

  bool active() const { return known_ && !ended_; }
  std::uint64_t series() const { return series_; }
  std::uint64_t expected_images() const { return number_of_images_; }

 private:
  void reset(std::uint64_t series, std::size_t height, std::size_t width, std::uint64_t images);
  bool known_ = false, ended_ = false;
  std::uint64_t series_ = 0, number_of_images_ = 0;
  std::size_t height_ = 0, width_ = 0;
  std::unordered_set<std::uint64_t> seen_;
  bool any_ = false;
  std::uint64_t highest_ = 0;
};

}  // namespace sira::serve
