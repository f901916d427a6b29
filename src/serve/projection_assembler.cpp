#include "serve/projection_assembler.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "serve/rejection.hpp"
#include "sira/error.hpp"
#include "sira/tomo/projector.hpp"

namespace sira::serve {

namespace {
void add_note(std::string& note, const std::string& text) { note = note.empty() ? text : note + "; " + text; }
}  // namespace

ProjectionAssembler::ProjectionAssembler(ProjectionOptions options) : options_(std::move(options)) {}

std::vector<double> ProjectionAssembler::References::mean(std::size_t n) const {
  std::vector<double> m(n, 0.0);
  if (frames)
    for (std::size_t i = 0; i < n; ++i) m[i] = sum[i] / double(frames);
  return m;
}

std::shared_ptr<ReconJob> ProjectionAssembler::new_job() const {
  auto job = std::make_shared<ReconJob>();
  job->series = series_;
  job->rows = rows_;
  job->cols = width_;
  job->center = options_.center;
  job->filter = options_.filter;
  job->circle_mask = options_.circle_mask;
  return job;
}

void ProjectionAssembler::begin_series(std::uint64_t series, const Message& start) {
  series_ = series;
  start_angles_deg_ = start.angles_deg;
  series_type_ = start.image_type;
  projections_.clear();
  theta_.clear();
  ids_.clear();
  projections_seen_ = since_job_ = 0;
  references_changed_ = any_job_ = false;
  dark_from_this_series_ = flat_from_this_series_ = false;
  updates_ = 0;
  pending_projections_ = 0;
  incremental_.reset();
  incremental_projections_ = 0;
  incremental_noted_ = false;
}

void ProjectionAssembler::give_up_incremental(const std::string& why, std::string& note) {
  incremental_.reset();
  if (incremental_noted_) return;
  incremental_noted_ = true;
  add_note(note, cat("series ", series_, ": the first reconstruction is not built as projections arrive (", why,
                     "): its whole window is reconstructed once 180 degrees are covered"));
}

void ProjectionAssembler::open_incremental(std::string& note) {
  if (flat_.frames == 0) return give_up_incremental("no flat field before the first projection", note);
  auto s = std::make_shared<IncrementalRecon>();
  const std::size_t n = rows_.size() * width_;
  s->rows = rows_;
  s->cols = width_;
  s->center = options_.center;
  s->filter = options_.filter;
  // The means make_job() would give the job.
  s->dark = dark_.mean(n);
  try {
    std::size_t repaired = 0;
    s->denom = flat_denominators(flat_.mean(n), s->dark, rows_, width_, &repaired);
    tomo::check_center(options_.center < 0 ? (double(width_) - 1) / 2.0 : options_.center, width_, "--center");
  } catch (const Error& e) {
    return give_up_incremental(e.what(), note);
  }
  incremental_ = std::move(s);
  incremental_projections_ = 0;
}

void ProjectionAssembler::add_reference(References& r, const Message& m) {
  std::vector<float> pixels(m.height * m.width);
  samples_to_float(m, pixels.data());
  if (r.sum.size() != rows_.size() * width_) r.sum.assign(rows_.size() * width_, 0.0), r.frames = 0;
  for (std::size_t i = 0; i < rows_.size(); ++i)
    for (std::size_t c = 0; c < width_; ++c) r.sum[i * width_ + c] += pixels[rows_[i] * width_ + c];
  ++r.frames;
}

Absorbed ProjectionAssembler::image(const Message& m, std::uint64_t series) {
  Absorbed out;
  if (height_ != m.height || width_ != m.width) {  // the first image, or a new detector size
    try {
      rows_ = tomo::parse_rows(options_.rows, m.height);
    } catch (const Error& e) {
      reject(kBadSize, "image ", m.image_id, " of ", m.height, "x", m.width, ": --rows ", options_.rows, ": ", e.what());
    }
    height_ = m.height;
    width_ = m.width;
    dark_ = flat_ = {};
    incremental_.reset();
    projections_.clear();
    theta_.clear();
    ids_.clear();
    out.note = cat("projections of ", height_, "x", width_, ": reconstructing ", rows_.size(), " row(s) from row ",
                   rows_.front());
  }
  const std::string type = !m.image_type.empty() ? m.image_type : !series_type_.empty() ? series_type_ : "projection";
  if (type == "dark" || type == "flat") {
    bool& fresh = type == "dark" ? dark_from_this_series_ : flat_from_this_series_;
    References& refs = type == "dark" ? dark_ : flat_;
    if (!fresh) refs = {};  // a series' own references replace those of an earlier series
    fresh = true;
    add_reference(refs, m);
    references_changed_ = true;
    if (incremental_) give_up_incremental(cat("a ", type, " field arrived after the first projection"), out.note);
    ++pending_refs_;
    return out;
  }
  const std::size_t index = projections_seen_++;
  double deg = m.angle_deg;
  if (std::isnan(deg) && index < start_angles_deg_.size()) deg = start_angles_deg_[index];
  if (std::isnan(deg) && options_.angles) {
    const tomo::AngleRange& r = *options_.angles;
    const std::size_t count = r.count ? r.count : 1;
    deg = r.start + (r.stop - r.start) * double(index) / double(count);
  }
  if (std::isnan(deg)) {
    out.drop_reason = "no_angle";
    out.note = cat("image ", m.image_id, " of series ", series, ": no angle (no user_data angle_deg, no angles_deg in "
                   "the start, no --angles)");
    return out;
  }
  std::vector<float> pixels(m.height * m.width), kept(rows_.size() * width_);
  samples_to_float(m, pixels.data());
  for (std::size_t i = 0; i < rows_.size(); ++i)
    std::copy_n(pixels.data() + rows_[i] * width_, width_, kept.data() + i * width_);
  projections_.push_back(std::move(kept));
  theta_.push_back(tomo::angles_to_radians({deg}, tomo::AngleUnit::degrees).front());
  ids_.push_back(m.image_id);
  ++since_job_;
  ++pending_projections_;
  if (!any_job_ && projections_.size() == 1) open_incremental(out.note);
  if (incremental_) ++incremental_projections_;
  if (flat_.frames == 0) return out;  // flats may still come (after the scan)
  const std::size_t window = covering_window();
  if (window > 0 && (!any_job_ || (options_.update_every > 0 && since_job_ >= options_.update_every))) {
    out.job = make_job(window, out.note);
  } else if (incremental_) {  // add this projection to the first reconstruction now
    auto job = new_job();
    job->update = updates_;
    job->projections = 1;
    job->counts = projections_.back();
    job->theta = {theta_.back()};
    job->first_id = job->last_id = ids_.back();
    job->incremental = incremental_;
    job->publish = false;
    out.job = std::move(job);
  }
  return out;
}

Absorbed ProjectionAssembler::end_series(std::uint64_t* dropped) {
  Absorbed out;
  *dropped = 0;
  if (since_job_ > 0 || (any_job_ && references_changed_)) {
    const std::size_t window = flat_.frames ? covering_window() : 0;
    if (window > 0) {
      out.job = make_job(window, out.note);
    } else if (pending_projections_ > 0) {
      *dropped = pending_projections_;
      out.note = cat("series ", series_, " ended with ", pending_projections_, " projection(s) never reconstructed (",
                     flat_.frames ? "their angles span less than 180 degrees" : "no flat field", ")");
    }
  }
  projections_.clear();
  theta_.clear();
  ids_.clear();
  since_job_ = pending_projections_ = 0;
  incremental_.reset();
  return out;
}

// The fewest newest projections whose angles, with one step more, span pi.
std::size_t ProjectionAssembler::covering_window() const {
  const std::size_t n = theta_.size();
  double lo = theta_.back(), hi = theta_.back();
  for (std::size_t k = 2; k <= n; ++k) {
    lo = std::min(lo, theta_[n - k]);
    hi = std::max(hi, theta_[n - k]);
    const double span = (hi - lo) * double(k) / double(k - 1);
    if (span >= std::numbers::pi * (1 - 1e-9)) return k;
  }
  return 0;
}

std::shared_ptr<ReconJob> ProjectionAssembler::make_job(std::size_t window, std::string& note) {
  auto job = new_job();
  const std::size_t n = projections_.size(), first = n - window, nrows = rows_.size();
  if (incremental_ && (any_job_ || incremental_projections_ != n || window != n))
    give_up_incremental(cat("the first window spanning 180 degrees is ", window, " of the ", n, " projections"), note);
  job->update = updates_++;
  job->projections = window;
  if (incremental_) {  // only the newest projection remains to add
    job->counts = projections_.back();
    job->incremental = std::move(incremental_);
    incremental_.reset();
  } else {
    job->counts.resize(nrows * window * width_);
    for (std::size_t r = 0; r < nrows; ++r)
      for (std::size_t a = 0; a < window; ++a)
        std::copy_n(projections_[first + a].data() + r * width_, width_,
                    job->counts.data() + (r * window + a) * width_);
  }
  job->theta.assign(theta_.begin() + std::ptrdiff_t(first), theta_.end());
  job->dark = dark_.mean(nrows * width_);
  job->flat = flat_.mean(nrows * width_);
  job->frames = pending_refs_ + pending_projections_;
  job->first_id = ids_[first];
  job->last_id = ids_.back();
  pending_refs_ = pending_projections_ = 0;
  since_job_ = 0;
  references_changed_ = false;
  any_job_ = true;
  // Projections older than any window to come are no longer needed.
  if (first > 0) {
    projections_.erase(projections_.begin(), projections_.begin() + std::ptrdiff_t(first));
    theta_.erase(theta_.begin(), theta_.begin() + std::ptrdiff_t(first));
    ids_.erase(ids_.begin(), ids_.begin() + std::ptrdiff_t(first));
  }
  return job;
}

}  // namespace sira::serve
