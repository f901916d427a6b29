// The training loop: one generator step then d_steps discriminator steps per
// iteration, validation on the test split, checkpoints and the model export.
#include "sira/train/trainer.hpp"

#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <thread>

#include "sira/error.hpp"
#include "sira/io.hpp"
#include "sira/metrics.hpp"
#include "sira/quant_recovery.hpp"
#include "sira/quantize.hpp"
#include "sira/train/recipe.hpp"
#include "train/checkpoint.hpp"
#include "train/discriminator.hpp"
#include "train/generator.hpp"
#include "train/losses.hpp"
#include "train/qat_setup.hpp"
#include "train/training_data.hpp"
#include "train/training_log.hpp"

namespace sira::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// "a.h5;b.h5": the file names of `paths`, without their folders.
std::string join_names(const std::vector<std::string>& paths) {
  std::string out;
  for (const auto& p : paths) out += (out.empty() ? "" : ";") + std::filesystem::path(p).filename().string();
  return out;
}

void check_options(const TrainOptions& o) {
  if (o.normalization != "fixed" && o.normalization != "per_image")
    fail("--normalization must be fixed or per_image, got '", o.normalization, "'");
  if (o.output.empty()) fail("no output model given (-o MODEL)");
  if (o.sampling != "size" && o.sampling != "file") fail("--sampling must be size or file, got '", o.sampling, "'");
  if (o.norm_block < 1 || o.norm_block > 4096) fail("--norm-block must be between 1 and 4096, got ", o.norm_block);
  if (o.norm_block != 1 && o.normalization != "per_image") fail("--norm-block needs --normalization per_image");
  if (o.residual && !o.init.empty())
    fail("--residual applies to a random start; an --init model keeps its own architecture");
  if (o.slices != 0 && o.slices != 1 && o.slices != 3) fail("--slices must be 1 or 3, got ", o.slices);
  if (o.batch < 1) fail("--batch must be at least 1, got ", o.batch);
  if (o.iterations < 1) fail("--iters must be at least 1, got ", o.iterations);
  if (!(o.lr > 0) || !std::isfinite(o.lr)) fail("--lr must be a positive number, got ", o.lr);
  if (o.d_steps < 0) fail("--d-steps must be 0 or more, got ", o.d_steps);
  if (o.threads < 0) fail("--threads must be 0 (all cores) or more, got ", o.threads);
  if (!(o.max_seconds >= 0)) fail("the time budget must be >= 0 seconds, got ", o.max_seconds);
  if (o.checkpoint_every < 0 || o.validate_every < 0) fail("--checkpoint-every and --validate-every must be >= 0");
  const auto& w = o.weights;
  for (double v : {w.adversarial, w.mse, w.perceptual})
    if (!(v >= 0) || !std::isfinite(v)) fail("--loss-weights must be finite and >= 0");
  if (w.adversarial + w.mse + w.perceptual <= 0) fail("--loss-weights are all zero: the generator would not learn");
  const QatOptions& q = o.qat;
  if (!q.enabled && !(q == QatOptions{}))
    fail("--qat-method, --qat-percentile, --weight-bits, --per-tensor, --equalize and --calib-slices only apply "
         "with --qat");
  if (q.enabled) {
    if (o.init.empty())
      fail("--qat needs --init MODEL: quantisation-aware training fine-tunes a trained fp32 model into an int8 one");
    if (q.weight_bits != 8 && q.weight_bits != 7) fail("--weight-bits must be 8 or 7, got ", q.weight_bits);
    if (q.calib_slices < 1) fail("--calib-slices must be at least 1, got ", q.calib_slices);
  }
}

// The slice with its neighbours (edges replicated) as a 1 x slices x H x W tensor.
torch::Tensor slice_input(const Stack& s, std::size_t z, int slices) {
  auto t = torch::empty({1, slices, std::int64_t(s.height), std::int64_t(s.width)}, torch::kFloat32);
  for (int c = 0; c < slices; ++c) {
    const long zc = std::clamp<long>(long(z) + c - slices / 2, 0, long(s.depth) - 1);
    std::copy_n(s.slice(std::size_t(zc)), s.slice_size(), t.data_ptr<float>() + c * s.slice_size());
  }
  return t;
}

struct Validation {
  double ssim = 0, psnr = 0;
};

// Whole test slices through the generator in eval mode (reflect-padded to the
// network's multiple), each through its own intensity map as the engine does,
// denormalised and scored against the clean slices in their own units; data
// range = that file's clean split max - min. Means over every test slice of
// every file. The restored slices of the first file go to `restored` when given.
Validation validate(Generator& generator, const std::vector<PairSplit>& tests, Stack* restored = nullptr) {
  torch::NoGradGuard no_grad;
  generator->eval();
  const long m = generator->graph().multiple();
  Validation v;
  std::size_t count = 0;
  for (std::size_t f = 0; f < tests.size(); ++f) {
    const Stack &noisy = tests[f].noisy, &clean = tests[f].clean;
    const auto [lo, hi] = std::minmax_element(clean.data.begin(), clean.data.end());
    const double range = std::max(double(*hi - *lo), 1e-12);
    const long h = long(clean.height), w = long(clean.width);
    const long ph = (m - h % m) % m, pw = (m - w % m) % m;
    const bool reflect_fits = ph < h && pw < w;
    std::vector<float> out(clean.slice_size());
    const bool keep = restored && f == 0;
    if (keep) *restored = Stack(clean.depth, clean.height, clean.width, DType::f32);
    for (std::size_t z = 0; z < clean.depth; ++z) {
      const IntensityMap map = tests[f].maps[z];
      auto x = (slice_input(noisy, z, generator->config().slices) - map.offset) * map.scale;
      x = reflect_fits ? torch::reflection_pad2d(x, {0, pw, 0, ph}) : torch::replication_pad2d(x, {0, pw, 0, ph});
      auto y = generator->forward(x).slice(2, 0, h).slice(3, 0, w).contiguous();
      const float* p = y.data_ptr<float>();
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = float(p[i] / map.scale + map.offset);
      if (keep) std::copy(out.begin(), out.end(), restored->slice(z));
      v.ssim += sira::ssim(out.data(), clean.slice(z), clean.height, clean.width, range);
      const double q = sira::psnr(out.data(), clean.slice(z), out.size(), range);
      v.psnr += std::isfinite(q) ? q : 100.0;  // a perfect slice counts as 100 dB
      ++count;
    }
  }
  v.ssim /= double(count);
  v.psnr /= double(count);
  generator->train();
  return v;
}

torch::Tensor as_tensor(std::vector<float>& buffer, std::int64_t n, std::int64_t c, std::int64_t side) {
  return torch::from_blob(buffer.data(), {n, c, side, side}, torch::kFloat32);
}


TrainReport train_on(const TrainOptions& options, PairData data, const IterationCallback& on_iteration);

}  // namespace

TrainReport train(const TrainOptions& options, const IterationCallback& on_iteration) {
  if (options.pairs.empty()) fail("no pair file given (-d PAIRS.h5)");
  check_options(options);
  return train_on(options, load_pairs(options.pairs, options.validate_every > 0 || !options.test_output.empty()),
                  on_iteration);
}

TrainReport train(const TrainOptions& options, const InMemoryPairs& pairs, const IterationCallback& on_iteration) {
  check_options(options);
  PairData data;
  auto split = [](const PairStacks& p) {
    if (p.noisy.depth == 0 || p.noisy.depth != p.clean.depth || p.noisy.height != p.clean.height ||
        p.noisy.width != p.clean.width)
      fail(p.name, ": noisy and clean stacks differ in shape or are empty");
    return PairSplit{p.name, p.noisy, p.clean, {}};
  };
  for (const auto& p : pairs.train) data.train.push_back(split(p));
  for (const auto& p : pairs.test) data.test.push_back(split(p));
  if (data.train.empty()) fail("no training pairs");
  if ((options.validate_every > 0 || !options.test_output.empty()) && data.test.empty())
    fail("validation needs test pairs");
  data.sources = pairs.sources;
  return train_on(options, std::move(data), on_iteration);
}

namespace {

TrainReport train_on(const TrainOptions& options, PairData data, const IterationCallback& on_iteration) {
  const int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  torch::manual_seed(options.seed);  // discriminator initialisation

  // Starting weights: a fine-tuned model or PyTorch's default initialisation.
  Model start;
  if (!options.init.empty()) {
    start = load_model(options.init);
    // A 1-slice model starts a 3-slice one: the neighbours' stem weights start at
    // zero, so training begins from exactly the 1-slice function.
    if (options.slices != 0 && options.slices != start.config.slices) {
      if (start.quant || start.config.slices != 1)
        fail(options.init, ": model takes ", start.config.slices, " slices, --slices asked for ", options.slices,
             " (only an fp32 1-slice model can start a model with more slices)");
      start = widen_input_slices(start, options.slices);
    }
    if (options.qat.enabled && start.quant)
      fail(options.init, ": the model is already quantised (int8); --qat fine-tunes its fp32 original");
    // Equalisation keeps the fp32 function; QAT then starts from (and calibrates) the equalised weights.
    if (options.qat.equalize) start = equalize_cross_layer(start);
  } else {
    TomoganConfig config;
    config.slices = options.slices == 0 ? 3 : options.slices;
    config.residual = options.residual;
    start = init_model(config, options.seed);
  }
  const TomoganConfig config = start.config;

  Generator generator(config);
  generator->load_weights(start);
  const int multiple = generator->graph().multiple();
  if (options.crop < multiple || options.crop % multiple != 0)
    fail("--crop ", options.crop, " must be a positive multiple of ", multiple, " (the generator's levels)");
  Discriminator discriminator(options.crop);
  torch::optim::Adam generator_optimizer(generator->parameters(), torch::optim::AdamOptions(options.lr));
  torch::optim::Adam discriminator_optimizer(discriminator->parameters(), torch::optim::AdamOptions(options.lr));
  auto perceptual = make_perceptual_loss(options.perceptual);


  const std::string signature =
      architecture_signature(config, options.crop) + (options.qat.enabled ? qat_signature(options.qat) : "");
  const std::string checkpoint = options.checkpoint.empty() ? options.output + ".ckpt" : options.checkpoint;
  TrainingState state;
  if (!options.resume.empty()) {
    state = load_checkpoint(options.resume, signature, generator, discriminator, generator_optimizer,
                            discriminator_optimizer);
    if (state.iteration > options.iterations)
      fail(options.resume, ": checkpoint is at iteration ", state.iteration, ", beyond --iters ", options.iterations);
    // The optimiser state carries its learning rate; --lr replaces it so a
    // resumed run can continue with a decayed rate (same rate: bit-for-bit resume).
    for (auto* optimizer : {&generator_optimizer, &discriminator_optimizer})
      for (auto& group : optimizer->param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(options.lr);
    if (state.norm.mode.empty()) state.norm.mode = options.normalization;  // an older checkpoint
    if (state.norm.mode != "fixed" && state.norm.mode != "per_image")
      fail(options.resume, ": checkpoint has an unknown normalisation mode '", state.norm.mode, "'");
  } else if (!options.init.empty() && start.trained) {
    state.norm = start.norm;  // the fine-tuned weights expect their own normalisation
  } else if (options.normalization == "per_image") {
    state.norm.mode = "per_image";
    state.norm.block = options.norm_block;
  } else {
    state.norm = fit_normalization(data.train);
  }
  assign_maps(data.train, state.norm);
  assign_maps(data.test, state.norm);

  // QAT: activation parameters calibrated once on the starting weights (as
  // sira quantize would, through the engine's normalisation), then FIXED, so
  // the trained forward is exactly the int8 network that is exported. A resumed
  // run takes them from its checkpoint.
  std::map<std::string, ActivationParams> qat_activations;
  if (options.qat.enabled) {
    if (!options.resume.empty()) {
      qat_activations = parse_activations(state.qat_activations, options.resume);
    } else {
      Model calibrated = start;
      calibrated.norm = state.norm;
      qat_activations = calibrate(calibrated, qat_calibration_images(data.train, options.qat.calib_slices),
                                  qat_quantize_options(options.qat, threads));
      state.qat_activations = activations_text(qat_activations);
    }
    FakeQuantConfig fq;
    fq.activations = qat_activations;
    fq.weight_qmax = options.qat.weight_bits == 7 ? 63 : 127;
    fq.per_channel = options.qat.per_channel;
    generator->set_fake_quant(std::move(fq));
  }

  CropSampler sampler(data.train, config.slices, options.crop, options.seed, options.sampling == "file");
  if (!options.resume.empty()) sampler.restore(state.sampler_state);

  const std::int64_t n = options.batch, side = options.crop;
  std::vector<float> input(std::size_t(n * config.slices * side * side)), target(std::size_t(n * side * side));
  std::vector<float> data_range(static_cast<std::size_t>(n));  // per crop, for the SSIM loss
  const auto& w = options.weights;

  TrainReport report;
  report.start_iteration = state.iteration;
  auto save_state = [&] {
    state.sampler_state = sampler.state();
    save_checkpoint(checkpoint, signature, state, generator, discriminator, generator_optimizer,
                    discriminator_optimizer);
    if (!options.log_csv.empty()) write_log_csv(options.log_csv, state.history);
    if (!options.plot_png.empty()) write_loss_plot(options.plot_png, state.history);
  };

  const auto run_start = Clock::now();
  double after_first = 0;
  generator->train();
  discriminator->train();
  while (state.iteration < options.iterations) {
    const auto t0 = Clock::now();
    IterationRecord r;
    r.iteration = state.iteration + 1;

    // Generator step.
    sampler.sample(int(n), input.data(), target.data(), data_range.data());
    auto x = as_tensor(input, n, config.slices, side), y = as_tensor(target, n, 1, side);
    generator_optimizer.zero_grad();
    auto fake = generator->forward(x);
    // With adversarial weight 0 (e.g. QAT fine-tuning) the discriminator is not needed here.
    auto adversarial =
        w.adversarial > 0 ? adversarial_loss(discriminator->forward(fake), true) : torch::zeros({}, fake.options());
    auto mse = pixel_mse(fake, y);
    auto perc = (*perceptual)(fake, y, torch::from_blob(data_range.data(), {n}, torch::kFloat32));
    auto total = w.adversarial * adversarial + w.mse * mse + w.perceptual * perc;
    total.backward();
    generator_optimizer.step();
    r.g_total = total.item<double>(), r.g_adversarial = adversarial.item<double>();
    r.g_mse = mse.item<double>(), r.g_perceptual = perc.item<double>();
    if (!std::isfinite(r.g_total)) fail("training diverged at iteration ", r.iteration, " (generator loss not finite)");

    // Discriminator steps, each on a fresh batch.
    for (int k = 0; k < options.d_steps; ++k) {
      sampler.sample(int(n), input.data(), target.data());
      auto noisy = as_tensor(input, n, config.slices, side), clean = as_tensor(target, n, 1, side);
      torch::Tensor generated;
      {
        torch::NoGradGuard no_grad;
        generated = generator->forward(noisy);
      }
      discriminator_optimizer.zero_grad();
      auto d_loss = adversarial_loss(discriminator->forward(clean), true) +
                    adversarial_loss(discriminator->forward(generated), false);
      d_loss.backward();
      discriminator_optimizer.step();
      r.d_loss += d_loss.item<double>() / options.d_steps;
    }

    ++state.iteration;
    const bool out_of_time = options.max_seconds > 0 && seconds_since(run_start) >= options.max_seconds;
    const bool last = state.iteration == options.iterations || out_of_time;
    if (!data.test.empty() && (last || (options.validate_every && state.iteration % options.validate_every == 0))) {
      Stack restored;
      const bool keep = last && !options.test_output.empty();
      const auto v = validate(generator, data.test, keep ? &restored : nullptr);
      if (keep) {
        restored.is_2d = false;
        write_stack(options.test_output, restored);
      }
      r.val_ssim = v.ssim, r.val_psnr = v.psnr;
    }
    r.seconds = seconds_since(t0);
    if (state.iteration > report.start_iteration + 1) after_first += r.seconds;
    state.history.push_back(r);
    if (!last && options.checkpoint_every && state.iteration % options.checkpoint_every == 0) save_state();
    if (on_iteration) on_iteration(r, options.iterations);
    if (out_of_time) break;
  }
  report.seconds = seconds_since(run_start);
  const std::int64_t timed = state.iteration - report.start_iteration - 1;
  report.crops_per_second = timed > 0 && after_first > 0 ? double(timed * n) / after_first
                            : report.seconds > 0          ? double(n) / report.seconds
                                                          : 0;
  save_state();

  Model& model = report.model;
  model.config = config;
  model.norm = state.norm;
  model.trained = true;
  model.tensors = generator->export_weights();
  model.info = start.trained ? start.info : std::map<std::string, std::string>{};
  const IterationRecord& final = state.history.back();
  // File names only: a model records no paths of the machine it was trained on.
  model.info["training_data"] = join_names(options.pairs);
  model.info["training_sources"] = join_names(data.sources);
  model.info["recipe"] = format_recipe(recipe_of(options, state.norm));
  model.info["iterations"] = std::to_string(state.iteration);
  model.info["seed"] = std::to_string(options.seed);
  model.info["crop"] = std::to_string(options.crop);
  model.info["batch"] = std::to_string(options.batch);
  model.info["lr"] = cat(options.lr);
  model.info["d_steps"] = std::to_string(options.d_steps);
  model.info["loss_weights"] = cat(w.adversarial, ",", w.mse, ",", w.perceptual);
  model.info["perceptual"] = perceptual->describe();
  model.info["final_losses"] = cat("g_total=", final.g_total, " g_adversarial=", final.g_adversarial,
                                   " g_mse=", final.g_mse, " g_perceptual=", final.g_perceptual, " d=", final.d_loss);
  if (final.val_ssim >= 0) model.info["validation"] = cat("ssim=", final.val_ssim, " psnr=", final.val_psnr);
  double total_seconds = 0;
  for (const auto& h : state.history) total_seconds += h.seconds;
  model.info["train_seconds"] = cat(total_seconds);
  model.info["threads"] = std::to_string(threads);
  // The file name only, as for the pair files: a model records no paths of the machine.
  if (!options.init.empty()) model.info["init"] = std::filesystem::path(options.init).filename().string();
  if (options.qat.enabled) {
    // The trained fp32 weights through the same quantiser the forward simulated.
    const QatOptions& q = options.qat;
    model = quantize_weights(model, qat_activations, qat_quantize_options(q, threads));
    model.quant->method = "qat+" + q.method;
    model.info["qat"] = cat("method=", q.method, q.method == "percentile" ? cat(" percentile=", q.percentile) : "",
                            " weight_bits=", q.weight_bits, q.per_channel ? " per-channel" : " per-tensor",
                            q.equalize ? " equalized" : "", " calib_slices=", q.calib_slices,
                            " iterations=", state.iteration);
  }
  save_model(model, options.output);
  report.history = state.history;
  return report;
}

}  // namespace
}  // namespace sira::train
