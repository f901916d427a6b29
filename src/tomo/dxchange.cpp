#include "sira/tomo/dxchange.hpp"
#include "core/whole_number.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>

#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/io.hpp"
#include "sira/tomo/raw_counts.hpp"

namespace sira::tomo {

namespace {

constexpr double kTwoPi = 2 * std::numbers::pi;
constexpr const char* kData = "/exchange/data";
constexpr const char* kWhite = "/exchange/data_white";
constexpr const char* kDark = "/exchange/data_dark";
constexpr const char* kTheta = "/exchange/theta";
constexpr std::size_t kAngleChunk = 64;  // projections read at a time (bounds memory)

std::size_t parse_count(const std::string& text, const std::string& spec, const char* what) {
  if (const std::optional<std::size_t> v = whole_count(text)) return *v;
  fail(what, " '", spec, "': '", text, "' is not a whole number");
}

double parse_number(const std::string& text, const std::string& spec, const char* what) {
  if (const std::optional<double> v = whole_double(text)) return *v;
  fail(what, " '", spec, "': '", text, "' is not a number");
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t p = s.find(sep, start);
    parts.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return parts;
}

std::vector<std::size_t> resolve_rows(const ProjectionInput& in, std::size_t total, const std::string& what) {
  std::vector<std::size_t> rows = in.rows;
  if (rows.empty() && !in.rows_spec.empty()) rows = parse_rows(in.rows_spec, total);
  if (rows.empty())
    for (std::size_t r = 0; r < total; ++r) rows.push_back(r);
  for (std::size_t r : rows)
    if (r >= total) fail(what, ": detector row ", r, " is out of range (the data has ", total, " rows)");
  return rows;
}

std::vector<double> range_angles(const AngleRange& r, std::size_t count) {
  std::vector<double> theta(count);
  for (std::size_t i = 0; i < count; ++i) theta[i] = r.start + (r.stop - r.start) * double(i) / double(count);
  return theta;
}

// Resolves the angles for `projections` projections: explicit range, dataset, or fallback.
std::vector<double> resolve_angles(const ProjectionInput& in, std::size_t projections,
                                   std::vector<double> from_file, const std::string& what,
                                   InputReport& report) {
  std::vector<double> theta;
  if (in.angle_range) {
    const std::size_t n = in.angle_range->count ? in.angle_range->count : projections;
    theta = range_angles(*in.angle_range, n);
  } else {
    theta = std::move(from_file);
  }
  if (theta.size() != projections)
    fail(what, ": ", theta.size(), " angles for ", projections, " projections");
  if (theta.empty()) fail(what, ": no angles (the data has no projections)");
  for (double t : theta)
    if (!std::isfinite(t)) fail(what, ": the angles contain a non-finite value");
  if (in.subtract_first_angle) {
    const double first = theta.front();
    for (double& t : theta) t -= first;
  }
  theta = angles_to_radians(theta, in.unit, &report.angles_were_degrees);
  if (report.angles_were_degrees) report.notes.push_back("angles read as degrees");
  return theta;
}

// A frames x rows x cols field (flats, darks), checked.
Stack read_frames(const H5File& f, const char* dataset, std::size_t total_rows, std::size_t cols) {
  const auto shape = f.shape(dataset);
  if (shape.size() != 3 || shape[1] != total_rows || shape[2] != cols)
    fail(f.path(), ":", dataset, ": shape must be frames x ", total_rows, " x ", cols);
  Stack s = f.read(dataset);
  check_finite(s, f.path() + ":" + dataset);
  return s;
}

// Mean over frames, rows x cols of the whole detector; only the listed rows are computed.
std::vector<double> frame_mean(const Stack& s, const std::vector<std::size_t>& rows) {
  std::vector<double> mean(s.height * s.width, 0.0);
  for (std::size_t k = 0; k < s.depth; ++k)
    for (std::size_t r : rows)
      for (std::size_t c = 0; c < s.width; ++c) mean[r * s.width + c] += s.at(k, r, c);
  for (double& m : mean) m /= double(s.depth);
  return mean;
}

std::ptrdiff_t reflect_index(std::ptrdiff_t i, std::ptrdiff_t n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i - 1;
    if (i >= n) i = 2 * n - i - 1;
  }
  return i;
}

std::string zinger_note(const InputReport& r, const ZingerOptions& z, const char* where) {
  const double share = r.zinger_samples ? 100.0 * double(r.zingers) / double(r.zinger_samples) : 0.0;
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.3f", share);
  std::string s = cat("zingers: ", r.zingers, " of ", r.zinger_samples, " samples (", pct, " %) replaced by their ",
                      z.size, "x", z.size, " median in the ", where, " (threshold ", z.threshold, " x median)");
  if (r.zingers_flats || r.zingers_darks) s += cat("; ", r.zingers_flats, " in the flats, ", r.zingers_darks, " in the darks");
  return s;
}

// A bare HDF5 file name (no ":/dataset") is a whole file to inspect for a known layout.
bool is_bare_hdf5_file(const std::string& location) {
  const std::size_t dot = location.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = location.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".h5" || ext == ".hdf5" || ext == ".hdf" || ext == ".nxs";
}

}  // namespace

AngleUnit parse_angle_unit(const std::string& name) {
  if (name == "auto" || name == "automatic") return AngleUnit::automatic;
  if (name == "deg" || name == "degrees" || name == "degree") return AngleUnit::degrees;
  if (name == "rad" || name == "radians" || name == "radian") return AngleUnit::radians;
  fail("unknown angle unit '", name, "' (expected auto, deg or rad)");
}

std::vector<double> angles_to_radians(const std::vector<double>& theta, AngleUnit unit, bool* degrees_out) {
  double largest = 0;
  for (double t : theta) largest = std::max(largest, std::abs(t));
  const bool degrees = unit == AngleUnit::degrees || (unit == AngleUnit::automatic && largest > kTwoPi + 1e-6);
  if (degrees_out) *degrees_out = degrees;
  std::vector<double> out(theta);
  if (degrees)
    for (double& t : out) t *= std::numbers::pi / 180.0;
  return out;
}

std::vector<std::size_t> parse_rows(const std::string& spec, std::size_t total) {
  std::vector<std::size_t> rows;
  if (spec.empty() || spec == "all") {
    for (std::size_t r = 0; r < total; ++r) rows.push_back(r);
    return rows;
  }
  for (const std::string& part : split(spec, ',')) {
    std::size_t step = 1;
    std::string range = part;
    if (const auto colon = part.find(':'); colon != std::string::npos) {
      step = parse_count(part.substr(colon + 1), spec, "rows");
      range = part.substr(0, colon);
      if (step == 0) fail("rows '", spec, "': step must be at least 1");
    }
    const auto dash = range.find('-');
    const std::size_t first = parse_count(range.substr(0, dash), spec, "rows");
    const std::size_t last = dash == std::string::npos ? first : parse_count(range.substr(dash + 1), spec, "rows");
    if (last < first) fail("rows '", spec, "': range ", first, "-", last, " is reversed");
    if (last >= total) fail("rows '", spec, "': row ", last, " is out of range (the data has ", total, " rows)");
    // Stepping stops before it would pass `last` (r += step could wrap around).
    for (std::size_t r = first;; r += step) {
      rows.push_back(r);
      if (last - r < step) break;
    }
  }
  return rows;
}

AngleRange parse_angle_range(const std::string& spec) {
  const auto parts = split(spec, ':');
  if (parts.size() < 2 || parts.size() > 3) fail("angle range '", spec, "': expected START:STOP or START:STOP:COUNT");
  AngleRange r;
  r.start = parse_number(parts[0], spec, "angle range");
  r.stop = parse_number(parts[1], spec, "angle range");
  if (parts.size() == 3) r.count = parse_count(parts[2], spec, "angle range");
  if (r.stop == r.start) fail("angle range '", spec, "': start and stop are equal");
  return r;
}

Sinograms read_dxchange(const std::string& file, const ProjectionInput& in, InputReport* report_out) {
  InputReport report;
  report.layout = "data-exchange";
  const H5File f = H5File::open(file);
  if (!f.has(kData)) fail(file, ": missing dataset ", kData, " (not a Data Exchange file?)");
  if (!f.has(kWhite)) fail(file, ": missing dataset ", kWhite, " (flat fields are needed to normalise)");
  const auto shape = f.shape(kData);
  if (shape.size() != 3) fail(file, ":", kData, ": expected 3 dimensions (angles x rows x columns), found ", shape.size());
  const std::size_t angles = shape[0], total_rows = shape[1], cols = shape[2];
  const std::string where = file + ":" + kData;
  if (angles == 0 || total_rows == 0 || cols == 0)
    fail(where, ": holds no projections (shape ", angles, " x ", total_rows, " x ", cols,
         "; angles x rows x columns)");
  // Before anything is enumerated or sized by the shape: a (1, 2^40, 1) header
  // must not make a row list of 2^40 entries.
  check_dims(angles, total_rows, cols, where);
  f.require_stored(kData);
  const std::vector<std::size_t> rows = resolve_rows(in, total_rows, where);

  std::vector<double> theta_file;
  if (!in.angle_range) {
    if (!f.has(kTheta)) fail(file, ": missing dataset ", kTheta, " (give the angles as a range instead)");
    theta_file = f.read_vector(kTheta);
  }
  const auto theta = resolve_angles(in, angles, std::move(theta_file), file + ":" + kTheta, report);

  // Rows whose samples are needed: the rows read plus the zinger neighbourhood's
  // halo (mirrored at the detector edges, as the filter does).
  const std::size_t halo = in.zingers ? std::size_t(in.zingers->size / 2) : 0;
  std::vector<std::uint8_t> is_needed(total_rows, 0);
  for (std::size_t r : rows)
    for (std::ptrdiff_t d = -std::ptrdiff_t(halo); d <= std::ptrdiff_t(halo); ++d)
      is_needed[reflect_index(std::ptrdiff_t(r) + d, std::ptrdiff_t(total_rows))] = 1;
  std::vector<std::size_t> needed;
  for (std::size_t r = 0; r < total_rows; ++r)
    if (is_needed[r]) needed.push_back(r);
  // Projections are read as hyperslabs of the needed rows' span only: a reader of
  // a few rows (a --rows range, an MPI rank's slab) never reads whole projections.
  const std::size_t span_first = needed.front(), span = needed.back() - needed.front() + 1;
  auto read_projections = [&](std::size_t first, std::size_t count) {
    return f.read_block(kData, first, count, span_first, span);
  };

  Stack white_frames = read_frames(f, kWhite, total_rows, cols);
  Stack dark_frames;
  const bool has_dark = f.has(kDark);
  if (has_dark) dark_frames = read_frames(f, kDark, total_rows, cols);
  else report.notes.push_back(cat(file, ": no ", kDark, "; dark level taken as 0"));
  if (in.zingers) {
    check_zinger_options(*in.zingers);
    report.zingers_flats = remove_zingers(white_frames, *in.zingers);
    if (has_dark) report.zingers_darks = remove_zingers(dark_frames, *in.zingers);
  }
  const std::vector<double> white = frame_mean(white_frames, needed);
  std::vector<double> dark(white.size(), 0.0);
  if (has_dark) dark = frame_mean(dark_frames, needed);

  // Denominators; bad flat pixels (white <= dark) are counted and repaired.
  std::vector<std::uint8_t> is_read(total_rows, 0);
  for (std::size_t r : rows) is_read[r] = 1;
  std::vector<double> denom(white.size());
  for (std::size_t i = 0; i < denom.size(); ++i) denom[i] = white[i] - dark[i];
  for (std::size_t r : needed) {
    double* d = denom.data() + r * cols;
    double good_sum = 0;
    std::size_t good = 0, bad = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      if (d[c] > 0) good_sum += d[c], ++good;
      else ++bad;
    }
    if (is_read[r]) report.bad_flat_pixels += bad;
    if (bad && good == 0) {
      if (is_read[r]) fail(file, ":", kWhite, ": detector row ", r, " has no flat pixel brighter than the dark field");
      good_sum = 1, good = 1;  // a neighbour row of the zinger filter only
    }
    if (bad)
      for (std::size_t c = 0; c < cols; ++c)
        if (!(d[c] > 0)) d[c] = good_sum / double(good);
  }
  const std::size_t read_pixels = rows.size() * cols;
  const double bad_fraction = double(report.bad_flat_pixels) / double(read_pixels);
  if (bad_fraction > in.max_bad_flat_fraction)
    fail(file, ":", kWhite, ": ", report.bad_flat_pixels, " of ", read_pixels,
         " flat pixels are not brighter than the dark field (white - dark <= 0); at most ",
         in.max_bad_flat_fraction * 100, " % are tolerated");
  if (report.bad_flat_pixels)
    report.notes.push_back(cat(report.bad_flat_pixels, " flat pixels with white <= dark replaced by their row's mean flat",
                               in.dead_pixels ? " (and interpolated as dead pixels)" : ""));

  // Dead/hot pixels: from the flats (white - mean dark) and from the projections
  // (a pixel that never changes).
  std::optional<DeadPixelMap> dead;
  if (in.dead_pixels) {
    std::vector<std::uint8_t> constant(total_rows * cols, 0);
    if (angles >= 2) {
      std::vector<float> lo(total_rows * cols, INFINITY), hi(total_rows * cols, -INFINITY);
      for (std::size_t first = 0; first < angles; first += kAngleChunk) {
        const std::size_t count = std::min(kAngleChunk, angles - first);
        const Stack chunk = read_projections(first, count);
        for (std::size_t a = 0; a < count; ++a)
          for (std::size_t r : needed) {
            const float* src = chunk.data.data() + (a * span + r - span_first) * cols;
            for (std::size_t c = 0; c < cols; ++c) {
              lo[r * cols + c] = std::min(lo[r * cols + c], src[c]);
              hi[r * cols + c] = std::max(hi[r * cols + c], src[c]);
            }
          }
      }
      for (std::size_t r : needed)
        for (std::size_t c = 0; c < cols; ++c) constant[r * cols + c] = lo[r * cols + c] == hi[r * cols + c];
    }
    Stack flats(white_frames.depth, total_rows, cols);
    for (std::size_t k = 0; k < flats.depth; ++k)
      for (std::size_t r : needed)
        for (std::size_t c = 0; c < cols; ++c)
          flats.at(k, r, c) = float(white_frames.at(k, r, c) - dark[r * cols + c]);
    FrameSource refs{flats.depth, total_rows, cols,
                     [&flats](std::size_t k, std::size_t r) { return &flats.at(k, r, 0); }};
    dead = find_dead_pixels(refs, *in.dead_pixels, SampleDomain::intensity, needed, constant);
    // Bad flats are dead pixels too.
    for (std::size_t r : needed)
      for (std::size_t c = 0; c < cols; ++c)
        if (white[r * cols + c] - dark[r * cols + c] <= 0) dead->reason[r * cols + c] = DeadReason::zero;
    for (std::size_t r : rows)
      for (std::size_t c = 0; c < cols; ++c) report.dead_pixels += dead->dead(r, c);
    report.dead_columns = dead->dead_columns(rows);
    report.notes.push_back(cat("dead pixels (from the flats and projections): ", dead->describe(rows),
                               report.dead_pixels ? "; interpolated along the rows in every projection" : ""));
  }

  Sinograms out{Stack(rows.size(), angles, cols), theta, in.center};
  out.data.is_2d = rows.size() == 1;
  std::vector<float> projection(total_rows * cols);  // transmission; only the needed rows are filled
  for (std::size_t first = 0; first < angles; first += kAngleChunk) {
    const std::size_t count = std::min(kAngleChunk, angles - first);
    const Stack chunk = read_projections(first, count);
    for (std::size_t a = 0; a < count; ++a) {
      for (std::size_t r : needed) {
        const float* src = chunk.data.data() + (a * span + r - span_first) * cols;
        float* t = projection.data() + r * cols;
        for (std::size_t c = 0; c < cols; ++c) {
          if (!std::isfinite(src[c]))
            fail(where, ": non-finite value (", src[c], ") at projection ", first + a, ", row ", r, ", column ", c);
          t[c] = float((double(src[c]) - dark[r * cols + c]) / denom[r * cols + c]);
        }
        if (dead) interpolate_dead_pixels(t, r, *dead);
      }
      if (in.zingers)
        report.zingers += remove_zingers(projection.data(), total_rows, cols, *in.zingers, SampleDomain::intensity, &rows);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const float* t = projection.data() + rows[i] * cols;
        float* dst = out.data.slice(i) + (first + a) * cols;
        for (std::size_t c = 0; c < cols; ++c) {
          if (t[c] < in.min_transmission) ++report.clipped_samples;
          dst[c] = float(-std::log(std::max(double(t[c]), in.min_transmission)));
        }
      }
    }
  }
  if (in.zingers) {
    report.zinger_samples = angles * rows.size() * cols;
    report.notes.push_back(zinger_note(report, *in.zingers, "flat/dark-corrected projections (rows x columns)"));
  }
  if (report.clipped_samples)
    report.notes.push_back(cat(report.clipped_samples, " samples with transmission below ", in.min_transmission, " clipped before -log"));
  if (report_out) *report_out = std::move(report);
  return out;
}

Sinograms read_sinogram(const std::string& location, const ProjectionInput& in, InputReport* report_out) {
  InputReport report;
  report.layout = "plain";
  // Only the span of the rows asked for is read (a --rows range, an MPI rank's
  // slab): slices are independent sinograms, so the rest is never needed.
  const std::vector<std::size_t> rows = resolve_rows(in, probe_stack(location).depth, location);
  const std::size_t span_first = *std::min_element(rows.begin(), rows.end());
  const std::size_t span = *std::max_element(rows.begin(), rows.end()) - span_first + 1;
  Stack s = read_slices(location, span_first, span);
  if (in.transpose) {  // detector x angles -> angles x detector, per slice
    Stack t(s.depth, s.width, s.height);
    for (std::size_t d = 0; d < s.depth; ++d)
      for (std::size_t y = 0; y < s.height; ++y)
        for (std::size_t x = 0; x < s.width; ++x) t.at(d, x, y) = s.at(d, y, x);
    s = std::move(t);
  }
  const std::size_t angles = s.height, cols = s.width;
  for (std::size_t i = 0; i < s.data.size(); ++i)  // slices named as in the file, not in the span read
    if (!std::isfinite(s.data[i]))
      fail(location, ": non-finite value (", s.data[i], ") at slice ", span_first + i / (angles * cols), ", row ",
           (i / cols) % angles, ", column ", i % cols);

  std::vector<double> theta_file;
  if (!in.angle_range) {
    const Location loc = parse_location(location);
    if (in.angles_dataset.empty())
      fail(location, ": no angles given (use an angle range, e.g. 0:180, or an HDF5 angles dataset)");
    if (loc.format != Format::hdf5) fail(location, ": an angles dataset needs an HDF5 input");
    const H5File f = H5File::open(loc.file);
    if (!f.has(in.angles_dataset)) fail(loc.file, ": missing angles dataset ", in.angles_dataset);
    theta_file = f.read_vector(in.angles_dataset);
  }
  const auto theta = resolve_angles(in, angles, std::move(theta_file), location, report);

  // Working copy of the rows read: counts (raw_counts) or scaled line integrals.
  Stack work(rows.size(), angles, cols);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const float* src = s.slice(rows[i] - span_first);
    float* dst = work.slice(i);
    if (in.raw_counts) std::copy_n(src, angles * cols, dst);
    else
      for (std::size_t k = 0; k < angles * cols; ++k) dst[k] = float(src[k] * in.scale);
  }
  if (!in.raw_counts) {
    const auto check = check_raw_counts(work.data.data(), work.size());
    if (check.looks_raw) report.warnings.push_back(raw_counts_warning(check, location));
  }
  const SampleDomain domain = in.raw_counts ? SampleDomain::intensity : SampleDomain::line_integral;
  if (in.dead_pixels) {
    // No flat field: the projections are the reference frames (frame = angle, row = slice).
    std::vector<std::uint8_t> constant(rows.size() * cols, 0);
    if (angles >= 2)
      for (std::size_t i = 0; i < rows.size(); ++i)
        for (std::size_t c = 0; c < cols; ++c) {
          bool same = true;
          for (std::size_t a = 1; a < angles && same; ++a) same = work.at(i, a, c) == work.at(i, 0, c);
          constant[i * cols + c] = same;
        }
    FrameSource refs{angles, rows.size(), cols, [&work](std::size_t a, std::size_t i) { return &work.at(i, a, 0); }};
    const DeadPixelMap dead = find_dead_pixels(refs, *in.dead_pixels, domain, {}, constant);
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t a = 0; a < angles; ++a) interpolate_dead_pixels(&work.at(i, a, 0), i, dead);
    report.dead_pixels = dead.count();
    report.dead_columns = dead.dead_columns();
    report.notes.push_back(cat("dead pixels (from the projections; no flat field): ", dead.describe(),
                               report.dead_pixels ? "; interpolated along the detector in every projection" : ""));
  }
  if (in.zingers) {
    check_zinger_options(*in.zingers);
    for (std::size_t i = 0; i < rows.size(); ++i)
      report.zingers += remove_zingers(work.slice(i), angles, cols, *in.zingers, domain);
    report.zinger_samples = work.size();
    report.notes.push_back(zinger_note(report, *in.zingers,
                                       in.raw_counts ? "sinograms of counts (angles x detector)"
                                                     : "sinograms of line integrals (angles x detector; rule on exp(-p))"));
  }

  Sinograms out{Stack(rows.size(), angles, cols), theta, in.center};
  out.data.is_2d = rows.size() == 1;
  std::vector<float> sorted(cols);
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t a = 0; a < angles; ++a) {
      const float* src = work.slice(i) + a * cols;
      float* dst = out.data.slice(i) + a * cols;
      if (!in.raw_counts) {
        std::copy_n(src, cols, dst);
        continue;
      }
      // No flat field: the open beam is estimated from the brightest pixels of the
      // projection (the detector edges that see past the sample).
      std::copy_n(src, cols, sorted.begin());
      const std::size_t top = std::max<std::size_t>(1, std::size_t(in.open_beam_fraction * cols));
      std::nth_element(sorted.begin(), sorted.begin() + (cols - top), sorted.end());
      std::sort(sorted.begin() + (cols - top), sorted.end());
      const double open = sorted[cols - top + top / 2];
      if (!(open > 0)) fail(location, ": projection ", a, " of slice ", rows[i], " has no positive counts to estimate the open beam");
      for (std::size_t c = 0; c < cols; ++c) {
        const double t = double(src[c]) / open;
        if (t < in.min_transmission) ++report.clipped_samples;
        dst[c] = float(-std::log(std::max(t, in.min_transmission)));
      }
    }
  if (in.raw_counts)
    report.notes.push_back(cat("raw counts without a flat field: each projection normalised by the median of its brightest ",
                               in.open_beam_fraction * 100, " % pixels (open-beam estimate), then -log"));
  if (report_out) *report_out = std::move(report);
  return out;
}

namespace {

// Corrections on the sinograms of line integrals, whatever the input layout.
void correct_sinograms(Sinograms& s, const ProjectionInput& in, InputReport* report) {
  if (!in.stripes) return;
  remove_stripes_sorting(s, *in.stripes);
  if (report)
    report->notes.push_back(cat("stripes removed from ", s.data.depth, " sinogram(s) by sorting (Vo et al. 2018, "
                                "algorithm 3): median across ", in.stripes->size, " detector columns"));
}

Sinograms load_uncorrected(const std::string& location, const ProjectionInput& in, InputReport* report) {
  if (is_bare_hdf5_file(location)) {
    const H5File f = H5File::open(location);
    const Location loc{location, "", Format::hdf5};
    if (f.has(kData)) return read_dxchange(loc.file, in, report);
    if (f.has("/sinogram") && f.has("/angles_rad")) {
      // ToMoBAR-style file: detector x angles, angles in radians with a motor offset.
      ProjectionInput known = in;
      const auto shape = f.shape("/sinogram");
      const auto n_angles = f.shape("/angles_rad");
      if (shape.size() == 2 && n_angles.size() == 1 && shape[0] != n_angles[0] && shape[1] == n_angles[0])
        known.transpose = true;
      if (known.angles_dataset.empty()) known.angles_dataset = "/angles_rad";
      known.subtract_first_angle = true;
      auto s = read_sinogram(loc.file + ":/sinogram", known, report);
      if (report) {
        report->layout = "sinogram-h5 (/sinogram + /angles_rad)";
        report->notes.push_back("angles from /angles_rad with the first angle subtracted");
      }
      return s;
    }
    fail(loc.file, ": neither /exchange/data (Data Exchange) nor /sinogram + /angles_rad found; "
                   "name the dataset as FILE.h5:/path");
  }
  return read_sinogram(location, in, report);
}

}  // namespace

std::vector<std::size_t> projection_rows(const std::string& location, const ProjectionInput& in) {
  // The same choice of layout as load_uncorrected.
  if (is_bare_hdf5_file(location)) {
    const H5File f = H5File::open(location);
    if (f.has(kData)) {
      const auto shape = f.shape(kData);
      if (shape.size() != 3) fail(location, ":", kData, ": expected 3 dimensions (angles x rows x columns), found ", shape.size());
      return resolve_rows(in, shape[1], location + ":" + kData);
    }
    if (f.has("/sinogram") && f.has("/angles_rad"))
      return resolve_rows(in, probe_stack(location + ":/sinogram").depth, location + ":/sinogram");
    fail(location, ": neither /exchange/data (Data Exchange) nor /sinogram + /angles_rad found; "
                   "name the dataset as FILE.h5:/path");
  }
  return resolve_rows(in, probe_stack(location).depth, location);
}

Sinograms load_projections(const std::string& location, const ProjectionInput& in, InputReport* report) {
  if (in.stripes) check_stripe_options(*in.stripes, std::size_t(-1));  // the width is checked once read
  Sinograms s = load_uncorrected(location, in, report);
  correct_sinograms(s, in, report);
  return s;
}

}  // namespace sira::tomo
