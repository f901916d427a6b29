// Measured projections into Sinograms of line integrals.
//
// Data Exchange HDF5 (APS/TomoPy convention):
//   /exchange/data        angles x rows x columns   projections (counts)
//   /exchange/data_white  frames x rows x columns   flat (open beam) fields
//   /exchange/data_dark   frames x rows x columns   dark fields (optional: 0 if absent)
//   /exchange/theta       angles                    projection angles (degrees or radians)
// Normalisation: T = (data - mean dark) / (mean white - mean dark), then
// p = -log(max(T, min_transmission)). Flat pixels with white - dark <= 0 are
// counted; above max_bad_flat_fraction the read fails, otherwise their
// denominator is replaced by the mean good denominator of the same detector row
// and a note is reported.
//
// Plain sinograms: one sinogram (angles x detector) or a stack (slices x angles x
// detector) in any image format sira reads (HDF5 dataset, TIFF, .npy), optionally
// stored transposed (detector x angles), optionally raw counts without a flat
// field (normalised per angle by a robust open-beam estimate, then -log).
//
// Optional pre-processing, in this order (docs/tomography-data.md, "Pre-processing"):
//  1. zingers removed from every flat and dark frame (Data Exchange);
//  2. dead/hot pixels found from the flats (Data Exchange; from the projections of
//     a plain sinogram) and interpolated in each projection;
//  3. zingers removed from each projection after flat/dark correction, before -log
//     (Data Exchange: in the rows x columns projection; plain sinograms: in each
//     sinogram's angles x detector plane, on the counts with raw_counts, else on
//     the line integrals by the equivalent rule);
//  4. stripes removed from each sinogram of line integrals (sorting-based).
//
// Angles: a dataset, a range (start, stop excluded, count) or the file's layout.
// Units: automatic = degrees if max |theta| > 2 pi + 1e-6, else radians.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "sira/tomo/dead_pixels.hpp"
#include "sira/tomo/sinogram.hpp"
#include "sira/tomo/stripes.hpp"
#include "sira/tomo/zingers.hpp"

namespace sira::tomo {

enum class AngleUnit { automatic, degrees, radians };
AngleUnit parse_angle_unit(const std::string& name);  // "auto" | "deg" | "rad"

// Angles in radians; `degrees_out` (if given) tells whether a conversion happened.
std::vector<double> angles_to_radians(const std::vector<double>& theta, AngleUnit unit,
                                      bool* degrees_out = nullptr);

// Rows (slices) from "all", "5", "0-9" (inclusive), "0-100:10" (step), or a
// comma-separated list of those; each must be < total.
std::vector<std::size_t> parse_rows(const std::string& spec, std::size_t total);

struct AngleRange {
  double start = 0, stop = 180;  // stop excluded
  std::size_t count = 0;         // 0 = one per projection in the file
};
// "START:STOP" or "START:STOP:COUNT".
AngleRange parse_angle_range(const std::string& spec);

struct ProjectionInput {
  std::vector<std::size_t> rows;          // detector rows (slices) to keep; empty = all
  std::string rows_spec;                  // alternative to `rows`: parse_rows() syntax, resolved on read
  AngleUnit unit = AngleUnit::automatic;
  std::string angles_dataset;             // HDF5 dataset with the angles (plain sinograms)
  std::optional<AngleRange> angle_range;  // overrides any angles in the file
  bool subtract_first_angle = false;      // angles carry a constant motor offset
  bool transpose = false;                 // plain sinogram stored as detector x angles
  bool raw_counts = false;                // plain sinogram of counts with no flat field
  double open_beam_fraction = 0.1;        // raw counts: open beam = median of the brightest 10 % of a row
  double scale = 1.0;                     // multiplies plain line integrals (unit conversion)
  double center = -1.0;                   // rotation centre if known; < 0 = unknown
  double min_transmission = 1e-6;         // clip before -log
  double max_bad_flat_fraction = 1e-3;    // tolerated share of flat pixels with white <= dark
  std::optional<ZingerOptions> zingers;          // remove zingers (flats, darks, projections)
  std::optional<DeadPixelOptions> dead_pixels;   // find and interpolate dead/hot pixels
  std::optional<StripeOptions> stripes;          // remove stripes from the sinograms
};

struct InputReport {
  std::string layout;              // "data-exchange", "sinogram-h5 (/sinogram + /angles_rad)", "plain"
  bool angles_were_degrees = false;
  std::size_t bad_flat_pixels = 0;
  std::size_t clipped_samples = 0;  // transmissions raised to min_transmission
  std::size_t zingers = 0, zinger_samples = 0;  // projection samples replaced / examined
  std::size_t zingers_flats = 0, zingers_darks = 0;
  std::size_t dead_pixels = 0;                 // defective detector pixels in the rows read
  std::vector<std::size_t> dead_columns;       // columns defective in every row read
  std::vector<std::string> notes;     // what was assumed or repaired, for the user
  std::vector<std::string> warnings;  // what looks wrong (e.g. raw counts read as line integrals)
};

// Data Exchange file -> rows x angles x columns sinograms. Throws sira::Error naming
// the file and dataset on: missing datasets, theta count != projections, shape
// mismatch of flats/darks, NaN/inf samples, too many bad flat pixels, rows out of range.
Sinograms read_dxchange(const std::string& file, const ProjectionInput& input, InputReport* report = nullptr);

// A plain sinogram (image location, e.g. "s.tif" or "s.h5:/sinogram").
Sinograms read_sinogram(const std::string& location, const ProjectionInput& input,
                        InputReport* report = nullptr);

// The detector rows (slices) load_projections(location, input) reads, in order:
// input.rows, or input.rows_spec resolved against the input's row count, or all.
// Reads only the input's header, so ranks sharing the rows can agree on them first.
std::vector<std::size_t> projection_rows(const std::string& location, const ProjectionInput& input);

// Any supported input: an HDF5 file name with /exchange/data (Data Exchange), an
// HDF5 file with /sinogram and /angles_rad (ToMoBAR-style: detector x angles,
// angles with an offset), or a plain sinogram location.
Sinograms load_projections(const std::string& location, const ProjectionInput& input,
                           InputReport* report = nullptr);

}  // namespace sira::tomo
