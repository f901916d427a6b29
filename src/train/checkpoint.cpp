#include "train/checkpoint.hpp"

#include <torch/serialize.h>

#include <filesystem>
#include <system_error>

#include "core/atomic_output.hpp"
#include "sira/error.hpp"

namespace sira::train {
namespace {

constexpr const char* kMagic = "sira-train-checkpoint-1";
constexpr int kHistoryColumns = 9;

torch::Tensor history_tensor(const std::vector<IterationRecord>& history) {
  auto t = torch::zeros({std::int64_t(history.size()), kHistoryColumns}, torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (std::size_t i = 0; i < history.size(); ++i) {
    const auto& r = history[i];
    const double row[kHistoryColumns] = {double(r.iteration), r.g_total, r.g_adversarial, r.g_mse, r.g_perceptual,
                                         r.d_loss, r.val_ssim, r.val_psnr, r.seconds};
    for (int c = 0; c < kHistoryColumns; ++c) a[i][c] = row[c];
  }
  return t;
}

std::vector<IterationRecord> history_records(const torch::Tensor& t) {
  std::vector<IterationRecord> history;
  auto a = t.accessor<double, 2>();
  for (std::int64_t i = 0; i < t.size(0); ++i) {
    IterationRecord r;
    r.iteration = std::int64_t(a[i][0]);
    r.g_total = a[i][1], r.g_adversarial = a[i][2], r.g_mse = a[i][3], r.g_perceptual = a[i][4];
    r.d_loss = a[i][5], r.val_ssim = a[i][6], r.val_psnr = a[i][7], r.seconds = a[i][8];
    history.push_back(r);
  }
  return history;
}

}  // namespace

std::string architecture_signature(const TomoganConfig& c, int crop) {
  std::string s = cat("tomogan slices=", c.slices, " stem=", c.stem, " encoder=");
  for (int w : c.encoder) s += cat(w, ",");
  s += cat(" bottleneck=", c.bottleneck, " decoder=");
  for (int w : c.decoder) s += cat(w, ",");
  s += cat(" head=", c.head, " upsample=", upsample_name(c.upsample));
  if (c.residual) s += " residual";  // (absent in the signatures of older checkpoints)
  return s + cat(" discriminator_crop=", crop);
}

void save_checkpoint(const std::string& path, const std::string& signature, const TrainingState& state,
                     Generator& generator, Discriminator& discriminator, torch::optim::Adam& generator_optimizer,
                     torch::optim::Adam& discriminator_optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("magic", c10::IValue(std::string(kMagic)));
  archive.write("architecture", c10::IValue(signature));
  archive.write("iteration", c10::IValue(state.iteration));
  archive.write("norm_offset", c10::IValue(state.norm.offset));
  archive.write("norm_scale", c10::IValue(state.norm.scale));
  archive.write("norm_mode", c10::IValue(state.norm.mode));
  archive.write("norm_low_percentile", c10::IValue(state.norm.low_percentile));
  archive.write("norm_high_percentile", c10::IValue(state.norm.high_percentile));
  archive.write("norm_block", c10::IValue(std::int64_t(state.norm.block)));
  archive.write("sampler", c10::IValue(state.sampler_state));
  archive.write("history", history_tensor(state.history));
  if (!state.qat_activations.empty()) archive.write("qat_activations", c10::IValue(state.qat_activations));
  auto sub = [&](const char* key, auto& object) {
    torch::serialize::OutputArchive part(archive.compilation_unit());
    object.save(part);
    archive.write(key, part);
  };
  sub("generator", *generator);
  sub("discriminator", *discriminator);
  sub("generator_adam", generator_optimizer);
  sub("discriminator_adam", discriminator_optimizer);
  AtomicOutput output(path);
  try {
    archive.save_to(output.temp_path());
  } catch (const c10::Error& e) {
    fail(path, ": cannot write checkpoint: ", e.what_without_backtrace());
  }
  output.commit();
}

TrainingState load_checkpoint(const std::string& path, const std::string& signature, Generator& generator,
                              Discriminator& discriminator, torch::optim::Adam& generator_optimizer,
                              torch::optim::Adam& discriminator_optimizer) {
  if (!std::filesystem::is_regular_file(path)) fail(path, ": no such checkpoint file");
  torch::serialize::InputArchive archive;
  TrainingState state;
  try {
    archive.load_from(path);
    c10::IValue v;
    if (!archive.try_read("magic", v) || !v.isString() || v.toStringRef() != kMagic)
      fail(path, ": not a sira training checkpoint");
    archive.read("architecture", v);
    // Compared before any tensor is read: libtorch would silently accept
    // parameters of another shape.
    if (v.toStringRef() != signature)
      fail(path, ": checkpoint is for a different architecture (", v.toStringRef(), ") than this run (", signature,
           ")");
    archive.read("iteration", v);
    state.iteration = v.toInt();
    archive.read("norm_offset", v);
    state.norm.offset = v.toDouble();
    archive.read("norm_scale", v);
    state.norm.scale = v.toDouble();
    // Checkpoints of sira <= 0.1.0 did not store the mode: it is left empty
    // and the run's --normalization applies.
    state.norm.mode.clear();
    if (archive.try_read("norm_mode", v)) {
      state.norm.mode = v.toStringRef();
      archive.read("norm_low_percentile", v);
      state.norm.low_percentile = v.toDouble();
      archive.read("norm_high_percentile", v);
      state.norm.high_percentile = v.toDouble();
      if (archive.try_read("norm_block", v)) state.norm.block = int(v.toInt());
    }
    archive.read("sampler", v);
    state.sampler_state = v.toStringRef();
    torch::Tensor history;
    archive.read("history", history);
    state.history = history_records(history);
    if (archive.try_read("qat_activations", v)) state.qat_activations = v.toStringRef();
    auto sub = [&](const char* key, auto& object) {
      torch::serialize::InputArchive part;
      archive.read(key, part);
      object.load(part);
    };
    sub("generator", *generator);
    sub("discriminator", *discriminator);
    sub("generator_adam", generator_optimizer);
    sub("discriminator_adam", discriminator_optimizer);
  } catch (const c10::Error& e) {
    fail(path, ": unreadable checkpoint: ", e.what_without_backtrace());
  }
  return state;
}

}  // namespace sira::train
