// sira serve --mode projections, the receiver's side (docs/serve.md,
// "Projections mode"): collects dark fields, flat fields and projections of
// the requested detector rows as they arrive and says when a reconstruction is
// due: first once the projections' angles span 180 degrees, then every K
// further projections (the rolling update, each over the newest projections
// that span 180 degrees), and at the end of a series if anything came since.
// Raw counts are kept, not line integrals, so flats that come after the
// projections still normalise them. The arithmetic of the normalisation and
// of the reconstruction (recon_job.hpp) is the one of sira recon on a Data
// Exchange file, so the results equal the offline sira recon + sira denoise.
// Darks and flats persist across series until a series brings its own (a
// dark or flat series before the projection series is the usual order).
// One thread (the receiver) uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "serve/message.hpp"
#include "serve/recon_job.hpp"
#include "sira/tomo/dxchange.hpp"

namespace sira::serve {

struct ProjectionOptions {
  std::string rows = "all";                  // detector rows to reconstruct (tomo::parse_rows syntax)
  double center = -1;                        // rotation axis (detector columns); < 0 = the middle
  std::size_t update_every = 0;              // K: a rolling update every K projections (0 = none)
  std::optional<tomo::AngleRange> angles;    // angle of projection i when the stream gives none
  tomo::Filter filter = tomo::Filter::ramp;
  bool circle_mask = true;
};

struct Absorbed {
  std::shared_ptr<ReconJob> job;  // a reconstruction due now
  const char* drop_reason = nullptr;  // the image was not taken (a Counters drop reason)
  std::string note;                   // worth a log line
};

class ProjectionAssembler {
 public:
  explicit ProjectionAssembler(ProjectionOptions options);

  // A series begins (its start, or the first image of a series that had none).
  void begin_series(std::uint64_t series, const Message& start);
  // An accepted image of the current series.
  Absorbed image(const Message& m, std::uint64_t series);
  // The series ended (or was replaced): a final update if anything arrived
  // since the last; `dropped` = its projections that will never be in one.
  Absorbed end_series(std::uint64_t* dropped);
  // Darks and flats still waiting for a reconstruction (counted in flight).
  std::uint64_t waiting_references() const { return pending_refs_; }

 private:
  struct References {
    std::vector<double> sum;  // rows x cols, over the frames, in arrival order
    std::size_t frames = 0;
    // The mean frame (n values), zeros when there is none (a missing dark).
    std::vector<double> mean(std::size_t n) const;
  };
  void add_reference(References& r, const Message& m);
  // A job with the series' geometry and the reconstruction options filled in.
  std::shared_ptr<ReconJob> new_job() const;
  std::shared_ptr<ReconJob> make_job(std::size_t window, std::string& note);
  // The incremental first reconstruction (recon_job.hpp): opened at the first
  // projection if it can be, given up (back to the whole-window FBP) if the
  // references change or the first window is not every projection added.
  void open_incremental(std::string& note);
  void give_up_incremental(const std::string& why, std::string& note);
  std::size_t covering_window() const;  // newest projections spanning 180 degrees (0 = not yet)

  ProjectionOptions options_;
  std::uint64_t series_ = 0;
  std::vector<double> start_angles_deg_;
  std::string series_type_;  // a dark or flat series (from its start)
  std::size_t height_ = 0, width_ = 0;
  std::vector<std::size_t> rows_;
  References dark_, flat_;
  bool dark_from_this_series_ = false, flat_from_this_series_ = false;
  std::vector<std::vector<float>> projections_;  // rows x cols raw counts, in arrival order
  std::vector<double> theta_;                    // radians, one per projection
  std::vector<std::uint64_t> ids_;
  std::size_t projections_seen_ = 0;             // index of the next projection in the series
  std::size_t since_job_ = 0;                    // projections since the last job
  bool references_changed_ = false;              // darks or flats since the last job
  bool any_job_ = false;
  std::uint64_t updates_ = 0;
  std::uint64_t pending_refs_ = 0, pending_projections_ = 0;  // frames in no job yet
  std::shared_ptr<IncrementalRecon> incremental_;  // the first reconstruction, being built
  std::size_t incremental_projections_ = 0;        // projections added to it
  bool incremental_noted_ = false;                 // the fall-back was logged for this series
};

}  // namespace sira::serve
