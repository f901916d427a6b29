// sira denoise: run a model over one image or a whole stack and write the
// restored result with the input's shape (float32 unless --dtype says otherwise).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "command.hpp"
#include "precision_option.hpp"
#include "progress.hpp"
#include "sira/denoise_stream.hpp"
#include "sira/engine.hpp"
#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/model.hpp"
#include "sira/quantize.hpp"
#ifdef SIRA_HAVE_MPI
#include "mpi/denoise_slabs.hpp"
#include "mpi/slab.hpp"
#endif

namespace sira::mpi {
class Session;  // the MPI build's ranks (mpi/mpi_session.hpp)
}

namespace sira::cli {
namespace {

// Fails before any work when `spec` could not be written: unknown format, or
// a folder that does not exist or is not writable.
void check_writable(const std::string& spec) {
  const Location where = parse_location(spec);
  std::filesystem::path folder = std::filesystem::path(where.file).parent_path();
  if (folder.empty()) folder = ".";
  if (!std::filesystem::is_directory(folder))
    fail(spec, ": folder '", folder.string(), "' does not exist");
  if (access(folder.c_str(), W_OK) != 0)
    fail(spec, ": folder '", folder.string(), "' is not writable");
}

struct DenoiseOptions {
  std::string model, input, output, preview, dtype;
  EngineOptions engine;
  bool in_place = false;
  InputRangeOptions int8;
};

int run_denoise(const DenoiseOptions& options, const mpi::Session* session);

Runner setup_denoise(CLI::App& sub) {
  auto opts = std::make_shared<DenoiseOptions>();
  sub.add_option("-m,--model", opts->model, "Model file (.sira) from sira train or sira init")
      ->required();
  sub.add_option("-i,--input", opts->input,
                 "Image or stack: image.tif, stack.tif, image.png, stack.npy or file.h5:/dataset")
      ->required();
  sub.add_option("-o,--output", opts->output,
                 "Output (same forms; format from the extension), same shape as the input. "
                 "Written to a temporary name and renamed when complete")
      ->required();
  sub.add_option("--backend", opts->engine.backend,
                 "auto = the first of oneDNN, XNNPACK (fp32 only), ref that this build and CPU can run the model on")
      ->check(CLI::IsMember(backend_names()))
      ->capture_default_str();
  sub.add_option("--threads", opts->engine.threads, "Threads (0 = every core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("--tile", opts->engine.tile,
                 "Tile edge in pixels (0 = whole image); tiles overlap by the network's "
                 "receptive radius, so the result equals the untiled one while memory stays "
                 "bounded by the tile size")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("--halo", opts->engine.halo,
                 "Tile overlap in pixels (default: the receptive radius rounded up to the network's multiple: "
                 "50 -> 56 px for TomoGAN, as sira info prints; this makes "
                 "the result equal the untiled one). A smaller halo runs faster and differs from the "
                 "untiled result near tile edges (measured in docs/benchmarks.md)")
      ->check(CLI::NonNegativeNumber);
  add_precision_option(sub, opts->engine.precision,
                       "Arithmetic precision: fp32; bf16 (any model; emulated by the ref backend where "
                       "the CPU lacks it); int8 (a model from sira quantize). See docs/quantization.md");
  sub.add_option("--int8-ranges", opts->int8.ranges,
                 "int8 activation ranges: input = re-observed on a few slices of this input before the "
                 "run (weights unchanged; a model's stored ranges fit only data of its calibration's "
                 "noise level); model = the ranges stored in the model. See docs/quantization.md")
      ->check(CLI::IsMember({"input", "model"}))
      ->capture_default_str();
  sub.add_option("--int8-calibration-slices", opts->int8.slices,
                 "Slices of the input (evenly spaced) the int8 ranges are observed on")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--int8-calibration-window", opts->int8.window,
                 "Edge of the centred window of each slice the int8 ranges are observed on (0 = whole "
                 "slices; observing runs the fp32 network on the slow observing kernels, ~1.5 s per 512² slice)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("--int8-percentile", opts->int8.percentile,
                 "Percentile of each activation's samples kept by the ranges observed on the input")
      ->check(CLI::Range(50.0, 100.0))
      ->capture_default_str();
  sub.add_flag("--in-place", opts->in_place,
               "Allow the output to be the input (same file, or same HDF5 dataset): it is replaced "
               "once complete");
  sub.add_option("--preview", opts->preview,
                 "Also write an 8-bit PNG of the middle output slice (0.5-99.5 percentile stretch)");
  sub.add_option("--dtype", opts->dtype,
                 "Output sample type (default float32: restored values are not integers). "
                 "Integers (for integer inputs only) are rounded; out-of-range values are an error")
      ->check(CLI::IsMember({"uint8", "uint16", "float32"}));
  sub.footer(
      "Examples:\n"
      "  sira denoise -m tomogan.sira -i noisy.tif -o restored.tif\n"
      "  sira denoise -m tomogan.sira -i recon.h5:/exchange/data -o restored.h5:/data --tile 512\n"
      "  sira denoise -m tomogan.sira -i slice.png -o slice_denoised.png --dtype uint16\n"
      "  sira denoise -m tomogan-int8.sira -i noisy.tif -o restored.tif --precision int8\n"
      "  sira denoise -m tomogan.sira -i stack.npy -o out.npy --backend ref --threads 2 "
      "--preview out.png\n"
      "A 3-slice model sees each slice with its neighbours (the first and last slices repeat\n"
      "themselves). Images are reflect-padded to the network's multiple and cropped back.\n"
      "Stacks stream: a reader thread reads ahead, a writer thread writes finished slices,\n"
      "so memory does not grow with the depth; the output appears only when complete.\n"
      "Under mpirun (the MPI build, docs/scale.md) each rank restores one slab of the\n"
      "stack into one HDF5 output: mpirun -np 4 build-mpi/sira denoise -m M -i in.h5:/d -o out.h5:/d\n"
      "See docs/engine.md.");
  return [opts] {
    use_threads(opts->engine.threads);
#ifdef SIRA_HAVE_MPI
    if (mpi::launched_by_mpi()) {
      mpi::Session session;
      if (session.size() == 1) return run_denoise(*opts, nullptr);  // as without mpirun
      try {
        return run_denoise(*opts, &session);
      } catch (const std::exception& e) {
        session.abort("sira denoise", e.what());
      }
    }
#endif
    return run_denoise(*opts, nullptr);
  };
}

// `session`: the ranks sharing the stack (nullptr: this process alone).
int run_denoise(const DenoiseOptions& options, const mpi::Session* session) {
    const DenoiseOptions* opts = &options;
    const bool lead = true
#ifdef SIRA_HAVE_MPI
        && (!session || session->rank() == 0)
#endif
        ;
    if (!opts->in_place && same_data(opts->input, opts->output))
      fail(opts->output, ": is the input; writing it would replace the input (give --in-place to "
           "do that, or another output)");
    check_writable(opts->output);
    if (!opts->preview.empty()) check_writable(opts->preview);
    Model model = load_model(opts->model);
    std::string ranges_note, ranges_record;
    if (opts->engine.precision == Precision::int8 && model.quant && opts->int8.ranges == "input") {
      QuantizeOptions calibration;
      calibration.threads = opts->engine.threads;
      calibration.percentile = opts->int8.percentile;
      const auto slices = input_calibration_slices(opts->input, opts->int8.slices,
                                                   model.config.slices, opts->int8.window);
      model = recalibrate_activations(model, slices, calibration);
      ranges_note = cat(", int8 ranges from ", slices.size(), " input slice(s)");
      ranges_record = cat("input: ", slices.size(), " slice(s), centred window ", opts->int8.window,
                          ", percentile ", opts->int8.percentile);
    } else if (opts->engine.precision == Precision::int8) {
      ranges_note = ", int8 ranges of the model";
      ranges_record = "model";
    }
    if (!model.trained && lead)
      std::cerr << "sira denoise: warning: " << opts->model
                << " is an UNTRAINED model (random weights from sira init); its output is not a "
                   "restoration\n";
    Engine engine(model, opts->engine);
    if (!opts->preview.empty() && parse_location(opts->preview).format != Format::png)
      fail(opts->preview, ": the preview is written as PNG; name it *.png");

    // Slices stream from the input through the engine to the output (reader and
    // writer threads, bounded queues): memory does not grow with the stack depth.
    StreamOptions stream;
    stream.dtype = opts->dtype.empty() ? DType::f32 : parse_dtype(opts->dtype);
    stream.preview = opts->preview;
    Provenance& p = stream.provenance;
    p = run_provenance();
    const Normalization& n = model.norm;
    p.add("input", opts->input)
        .add("model", opts->model)
        .add("model_hash", file_hash(opts->model))
        .add("precision", precision_name(engine.precision()))
        .add("backend", engine.backend_name())
        .add("threads", engine.threads())
        .add("tile", opts->engine.tile)
        .add("halo", opts->engine.tile ? engine.tile_halo() : std::size_t(0))
        .add("normalization", n.mode == "fixed" ? cat("fixed: (x - ", n.offset, ") * ", n.scale)
                                                : cat("per_image: percentiles ", n.low_percentile, "..",
                                                      n.high_percentile,
                                                      n.block > 1 ? cat(" of ", n.block, "x", n.block, " block means")
                                                                  : std::string(),
                                                      " -> [0, 1]"));
    if (!ranges_record.empty()) p.add("int8_ranges", ranges_record);
#ifdef SIRA_HAVE_MPI
    if (session) {
      const std::size_t depth = probe_stack(opts->input).depth;
      std::optional<ProgressBar> rank_bar;  // rank 0 shows its own slab's progress
      if (lead) rank_bar.emplace("denoise (rank 0's slab)", mpi::slab_of(depth, 0, session->size()).count);
      stream.progress = [&rank_bar](std::size_t done, std::size_t) {
        if (rank_bar) rank_bar->update(done);
      };
      const mpi::SlabsReport r = mpi::denoise_slabs(*session, engine, opts->input, opts->output, stream);
      if (rank_bar) rank_bar->finish();
      if (lead)
        status(cat("sira denoise: ", depth, " slice(s) on ", session->size(), " ranks (slabs of up to ",
                   r.largest_slab, ") on backend ", engine.backend_name(), " ", precision_name(engine.precision()), " (",
                   engine.threads(), " threads per rank", ranges_note, ") in ", r.seconds,
                   " s (slowest rank ", r.slowest_seconds, " s; rank 0: engine ", r.rank0.compute_seconds,
                   " s, waiting for I/O ", r.rank0.wait_seconds, " s); wrote ", opts->output, " (",
                   dtype_name(stream.dtype), ")"));
      return 0;
    }
#endif
    ProgressBar bar("denoise", probe_stack(opts->input).depth);
    stream.progress = [&bar](std::size_t done, std::size_t) { bar.update(done); };
    const StreamReport r = denoise_stream(engine, opts->input, opts->output, stream);
    bar.finish();
    const StackInfo& input = r.input;
    status(cat("sira denoise: ", input.depth, " slice(s) of ", input.height, "x", input.width,
               " on backend ", engine.backend_name(), " ", precision_name(engine.precision()), " (", engine.threads(), " threads", ranges_note,
               opts->engine.tile ? cat(", tile ", opts->engine.tile, " + halo ", engine.tile_halo())
                                 : std::string(),
               ") in ", r.seconds, " s (", r.seconds * 1000.0 / double(input.depth),
               " ms/slice; engine ", r.compute_seconds, " s, waiting for I/O ", r.wait_seconds,
               " s); wrote ", opts->output, " (", dtype_name(stream.dtype), ")"));
    return 0;
}

const Command denoise_command{"denoise", "Denoise an image or stack with a model", setup_denoise};

}  // namespace
}  // namespace sira::cli
