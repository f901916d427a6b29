#include "serve/series_tracker.hpp"

#include "serve/rejection.hpp"

namespace sira::serve {

void SeriesTracker::reset(std::uint64_t series, std::size_t height, std::size_t width, std::uint64_t images) {
  known_ = true;
  ended_ = false;
  series_ = series;
  height_ = height;
  width_ = width;
  number_of_images_ = images;
  seen_.clear();
  any_ = false;
  highest_ = 0;
}

Verdict SeriesTracker::start(const Message& m) {
  Verdict v;
  v.accept = true;
  if (known_ && !ended_ && m.series_id == series_) {
    v.note = cat("start of series ", m.series_id, " repeated");
    if (height_ == 0 && !any_) height_ = m.height, width_ = m.width, number_of_images_ = m.number_of_images;
    return v;
  }
  if (known_ && !ended_) v.note = cat("series ", series_, " replaced by series ", m.series_id, " before its end");
  reset(m.series_id, m.height, m.width, m.number_of_images);
  v.new_series = true;
  return v;
}

Verdict SeriesTracker::end(const Message& m) {
  Verdict v;
  v.accept = true;
  if (!known_) {
    v.note = "end of a series never seen (joined after its last image)";
  } else if (m.has_series && m.series_id != series_) {
    v.note = cat("end of series ", m.series_id, " while serving series ", series_, ": ignored");
  } else {
    if (ended_) v.note = cat("end of series ", series_, " repeated");
    ended_ = true;
  }
  return v;
}

Verdict SeriesTracker::image(const Message& m) {
  Verdict v;
  if (!known_) {
    reset(m.has_series ? m.series_id : 0, 0, 0, 0);
    v.new_series = true;
    v.note = cat("joined series ", series_, " at image ", m.image_id, " (no start seen)");
  } else if (m.has_series && m.series_id != series_) {
    if (m.series_id < series_) {
      v.drop_reason = "stale_series";
      return v;
    }
    reset(m.series_id, 0, 0, 0);
    v.new_series = true;
    v.note = cat("series ", series_, " began without a start message");
  } else if (ended_) {
    if (m.has_series) {
      v.drop_reason = "after_end";
      return v;
    }
    // array-1.0 without series ids: frames after an end open the next series
    reset(series_ + 1, 0, 0, 0);
    v.new_series = true;
  }
  if (height_ == 0 || width_ == 0) {
    height_ = m.height;
    width_ = m.width;
  } else if (m.height != height_ || m.width != width_) {
    reject(kBadSize, "image ", m.image_id, " is ", m.height, "x", m.width, ", series ", series_, " has ", height_,
           "x", width_);
  }
  if (!seen_.insert(m.image_id).second) {
    v.drop_reason = "duplicate";
    return v;
  }
  if (any_ && m.image_id < highest_) v.out_of_order = true;
  if (!any_ || m.image_id > highest_) highest_ = m.image_id;
  any_ = true;
  v.accept = true;
  return v;
}

}  // namespace sira::serve
