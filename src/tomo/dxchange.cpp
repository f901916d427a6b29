#include "sira/tomo/dxchange.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numbers>

#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/io.hpp"

namespace sira::tomo {

namespace {

constexpr double kTwoPi = 2 * std::numbers::pi;
constexpr const char* kData = "/exchange/data";
constexpr const char* kWhite = "/exchange/data_white";
constexpr const char* kDark = "/exchange/data_dark";
constexpr const char* kTheta = "/exchange/theta";
constexpr std::size_t kAngleChunk = 64;  // projections read at a time (bounds memory)

std::size_t parse_count(const std::string& text, const std::string& spec, const char* what) {
  std::size_t v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) fail(what, " '", spec, "': '", text, "' is not a whole number");
  return v;
}

double parse_number(const std::string& text, const std::string& spec, const char* what) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
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

// Mean over frames of a frames x rows x cols field, for the selected rows.
std::vector<double> frame_mean(const H5File& f, const char* dataset, const std::vector<std::size_t>& rows,
                               std::size_t total_rows, std::size_t cols) {
  const auto shape = f.shape(dataset);
  if (shape.size() != 3 || shape[1] != total_rows || shape[2] != cols)
    fail(f.path(), ":", dataset, ": shape must be frames x ", total_rows, " x ", cols);
  const Stack s = f.read(dataset);
  check_finite(s, f.path() + ":" + dataset);
  std::vector<double> mean(rows.size() * cols, 0.0);
  for (std::size_t k = 0; k < s.depth; ++k)
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t c = 0; c < cols; ++c) mean[i * cols + c] += s.at(k, rows[i], c);
  for (double& m : mean) m /= double(s.depth);
  return mean;
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
    for (std::size_t r = first; r <= last; r += step) rows.push_back(r);
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
  const std::vector<std::size_t> rows = resolve_rows(in, total_rows, where);

  std::vector<double> theta_file;
  if (!in.angle_range) {
    if (!f.has(kTheta)) fail(file, ": missing dataset ", kTheta, " (give the angles as a range instead)");
    theta_file = f.read_vector(kTheta);
  }
  const auto theta = resolve_angles(in, angles, std::move(theta_file), file + ":" + kTheta, report);

  const std::vector<double> white = frame_mean(f, kWhite, rows, total_rows, cols);
  std::vector<double> dark(white.size(), 0.0);
  if (f.has(kDark)) dark = frame_mean(f, kDark, rows, total_rows, cols);
  else report.notes.push_back(cat(file, ": no ", kDark, "; dark level taken as 0"));

  // Denominators; bad flat pixels (white <= dark) are counted and repaired.
  std::vector<double> denom(white.size());
  for (std::size_t i = 0; i < denom.size(); ++i) denom[i] = white[i] - dark[i];
  for (std::size_t i = 0; i < rows.size(); ++i) {
    double* d = denom.data() + i * cols;
    double good_sum = 0;
    std::size_t good = 0, bad = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      if (d[c] > 0) good_sum += d[c], ++good;
      else ++bad;
    }
    report.bad_flat_pixels += bad;
    if (bad && good == 0) fail(file, ":", kWhite, ": detector row ", rows[i], " has no flat pixel brighter than the dark field");
    if (bad)
      for (std::size_t c = 0; c < cols; ++c)
        if (!(d[c] > 0)) d[c] = good_sum / double(good);
  }
  const double bad_fraction = double(report.bad_flat_pixels) / double(denom.size());
  if (bad_fraction > in.max_bad_flat_fraction)
    fail(file, ":", kWhite, ": ", report.bad_flat_pixels, " of ", denom.size(),
         " flat pixels are not brighter than the dark field (white - dark <= 0); at most ",
         in.max_bad_flat_fraction * 100, " % are tolerated");
  if (report.bad_flat_pixels)
    report.notes.push_back(cat(report.bad_flat_pixels, " flat pixels with white <= dark replaced by their row's mean flat"));

  Sinograms out{Stack(rows.size(), angles, cols), theta, in.center};
  out.data.is_2d = rows.size() == 1;
  for (std::size_t first = 0; first < angles; first += kAngleChunk) {
    const std::size_t count = std::min(kAngleChunk, angles - first);
    const Stack chunk = f.read_slices(kData, first, count);
    for (std::size_t a = 0; a < count; ++a)
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const float* src = chunk.data.data() + (a * total_rows + rows[i]) * cols;
        float* dst = out.data.slice(i) + (first + a) * cols;
        for (std::size_t c = 0; c < cols; ++c) {
          if (!std::isfinite(src[c]))
            fail(where, ": non-finite value (", src[c], ") at projection ", first + a, ", row ", rows[i], ", column ", c);
          const double t = (double(src[c]) - dark[i * cols + c]) / denom[i * cols + c];
          if (t < in.min_transmission) ++report.clipped_samples;
          dst[c] = float(-std::log(std::max(t, in.min_transmission)));
        }
      }
  }
  if (report.clipped_samples)
    report.notes.push_back(cat(report.clipped_samples, " samples with transmission below ", in.min_transmission, " clipped before -log"));
  if (report_out) *report_out = std::move(report);
  return out;
}

Sinograms read_sinogram(const std::string& location, const ProjectionInput& in, InputReport* report_out) {
  InputReport report;
  report.layout = "plain";
  Stack s = read_stack(location);
  if (in.transpose) {  // detector x angles -> angles x detector, per slice
    Stack t(s.depth, s.width, s.height);
    for (std::size_t d = 0; d < s.depth; ++d)
      for (std::size_t y = 0; y < s.height; ++y)
        for (std::size_t x = 0; x < s.width; ++x) t.at(d, x, y) = s.at(d, y, x);
    s = std::move(t);
  }
  check_finite(s, location);
  const std::size_t angles = s.height, cols = s.width;
  const std::vector<std::size_t> rows = resolve_rows(in, s.depth, location);

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

  Sinograms out{Stack(rows.size(), angles, cols), theta, in.center};
  out.data.is_2d = rows.size() == 1;
  std::vector<float> sorted(cols);
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t a = 0; a < angles; ++a) {
      const float* src = s.slice(rows[i]) + a * cols;
      float* dst = out.data.slice(i) + a * cols;
      if (!in.raw_counts) {
        for (std::size_t c = 0; c < cols; ++c) dst[c] = float(src[c] * in.scale);
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

Sinograms load_projections(const std::string& location, const ProjectionInput& in, InputReport* report) {
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

}  // namespace sira::tomo
