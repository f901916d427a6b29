// TomoganConfig: names of the upsampling modes, the limits of a sane
// configuration, the widths list syntax, and the tensors a configuration needs.
#include <charconv>
#include <limits>

#include "sira/error.hpp"
#include "sira/model.hpp"

namespace sira {

namespace {
// Limits far beyond any useful network; they exist so that a corrupt or hostile
// file cannot make us allocate terabytes or overflow an int.
constexpr int kMaxSlices = 15;
constexpr int kMaxLevels = 8;
constexpr int kMaxWidth = 4096;
}  // namespace

const char* upsample_name(Upsample u) {
  switch (u) {
    case Upsample::bilinear: return "bilinear";
    case Upsample::nearest: return "nearest";
    case Upsample::transposed: return "transposed";
  }
  return "?";
}

Upsample parse_upsample(const std::string& s) {
  if (s == "bilinear") return Upsample::bilinear;
  if (s == "nearest") return Upsample::nearest;
  if (s == "transposed") return Upsample::transposed;
  fail("unknown upsampling '", s, "' (expected bilinear, nearest or transposed)");
}

void TomoganConfig::validate() const {
  // Odd so that the target slice is the middle one.
  if (slices < 1 || slices > kMaxSlices || slices % 2 == 0)
    fail("input slices ", slices, " is not an odd number between 1 and ", kMaxSlices);
  if (encoder.empty() || static_cast<int>(encoder.size()) > kMaxLevels)
    fail("levels ", encoder.size(), " is not between 1 and ", kMaxLevels);
  if (decoder.size() != encoder.size())
    fail("the decoder has ", decoder.size(), " levels but the encoder has ", encoder.size());
  auto check = [](const std::string& what, int w) {
    if (w < 1 || w > kMaxWidth) fail("width of ", what, " is ", w, ", expected 1..", kMaxWidth);
  };
  check("stem", stem);
  for (std::size_t i = 0; i < encoder.size(); ++i) check(cat("enc.", i), encoder[i]);
  check("bottleneck", bottleneck);
  for (std::size_t i = 0; i < decoder.size(); ++i) check(cat("dec.", i), decoder[i]);
  check("head", head);
}

void parse_widths(const std::string& text, TomoganConfig& cfg) {
  std::vector<int> values;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    int v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || next == p)
      fail("widths '", text, "': expected comma-separated integers");
    values.push_back(v);
    p = next;
    if (p < end) {
      if (*p != ',') fail("widths '", text, "': expected comma-separated integers");
      ++p;
      if (p == end) fail("widths '", text, "': trailing comma");
    }
  }
  if (values.size() < 5 || values.size() % 2 == 0)
    fail("widths '", text, "': expected stem, L encoder widths, bottleneck, L decoder widths, head ",
         "(2L+3 numbers, e.g. 8,32,64,128,128,64,32,32,16)");
  const std::size_t levels = (values.size() - 3) / 2;
  TomoganConfig out = cfg;
  out.stem = values[0];
  out.encoder.assign(values.begin() + 1, values.begin() + 1 + levels);
  out.bottleneck = values[1 + levels];
  out.decoder.assign(values.begin() + 2 + levels, values.begin() + 2 + 2 * levels);
  out.head = values.back();
  out.validate();
  cfg = out;
}

std::string format_widths(const TomoganConfig& cfg) {
  std::vector<int> all{cfg.stem};
  all.insert(all.end(), cfg.encoder.begin(), cfg.encoder.end());
  all.push_back(cfg.bottleneck);
  all.insert(all.end(), cfg.decoder.begin(), cfg.decoder.end());
  all.push_back(cfg.head);
  std::string s;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(all[i]);
  }
  return s;
}

std::vector<TensorSpec> expected_tensors(const TomoganConfig& cfg) {
  cfg.validate();
  std::vector<TensorSpec> specs;
  auto conv = [&](const std::string& name, std::int64_t out, std::int64_t in, std::int64_t k) {
    specs.push_back({name + ".weight", {out, in, k, k}});
    specs.push_back({name + ".bias", {out}});
  };
  const int levels = cfg.levels();
  conv("stem", cfg.stem, cfg.slices, 1);
  int channels = cfg.stem;
  for (int i = 0; i < levels; ++i) {
    conv(cat("enc.", i, ".conv1"), cfg.encoder[i], channels, 3);
    conv(cat("enc.", i, ".conv2"), cfg.encoder[i], cfg.encoder[i], 3);
    channels = cfg.encoder[i];
  }
  conv("bottleneck", cfg.bottleneck, channels, 3);
  channels = cfg.bottleneck;
  for (int i = 0; i < levels; ++i) {
    if (cfg.upsample == Upsample::transposed)  // ConvTranspose2d layout [in, out, kH, kW]
      conv(cat("dec.", i, ".up"), channels, channels, 2);
    const int skip = cfg.encoder[levels - 1 - i];
    conv(cat("dec.", i, ".conv1"), cfg.decoder[i], skip + channels, 3);
    conv(cat("dec.", i, ".conv2"), cfg.decoder[i], cfg.decoder[i], 3);
    channels = cfg.decoder[i];
  }
  conv("head.conv1", cfg.head, channels, 1);
  conv("head.conv2", 1, cfg.head, 1);
  return specs;
}

}  // namespace sira
