// Model files: round trip, and every kind of corrupt file is an Error naming
// the file (never a crash).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <vector>
#include <unistd.h>

#include "sira/error.hpp"
#include "sira/model.hpp"
#include "sira/quantize.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class ModelFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sira_model_file_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Temporaries (".m.sira.tmp-<pid>-<n>") left in the folder.
  std::vector<std::string> temporaries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      if (e.path().filename().string().find(".tmp") != std::string::npos)
        names.push_back(e.path().filename().string());
    return names;
  }
  fs::path dir_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::uint64_t header_length(const std::string& file) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(file[i]);
  return n;
}

// Splits a file into its JSON header and data section, so a test can edit the
// header and reassemble a file (re-padding to 8 bytes).
struct Parts {
  json header;
  std::string data;
};
Parts split(const std::string& file) {
  const std::uint64_t n = header_length(file);
  return {json::parse(file.substr(8, n)), file.substr(8 + n)};
}
std::string join_raw(const std::string& header_text, const std::string& data) {
  std::string h = header_text;
  h.append((8 - h.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(std::uint64_t(h.size()) >> (8 * i));
  return out + h + data;
}
std::string join(const Parts& p) { return join_raw(p.header.dump(), p.data); }

// The tensors of a file by name, so a test can drop, add or reshape tensors and
// reassemble a well-laid-out file around the change.
struct Blob {
  std::string dtype;
  json shape;
  std::string bytes;
};
struct Tensors {
  json metadata;
  std::map<std::string, Blob> blobs;
};
Tensors tensors_of(const std::string& file) {
  const Parts p = split(file);
  Tensors t{p.header["__metadata__"], {}};
  for (auto& [k, v] : p.header.items()) {
    if (k == "__metadata__") continue;
    const auto b = v["data_offsets"][0].get<std::size_t>(), e = v["data_offsets"][1].get<std::size_t>();
    t.blobs[k] = {v["dtype"], v["shape"], p.data.substr(b, e - b)};
  }
  return t;
}
std::string assemble(const Tensors& t) {
  Parts p{json::object(), ""};
  p.header["__metadata__"] = t.metadata;
  for (const auto& [name, b] : t.blobs) {
    p.header[name] = {{"dtype", b.dtype}, {"shape", b.shape},
                      {"data_offsets", {p.data.size(), p.data.size() + b.bytes.size()}}};
    p.data += b.bytes;
  }
  return join(p);
}

// A small model (one level, narrow) keeps the files tiny for the many variants.
sira::TomoganConfig small_config() {
  sira::TomoganConfig cfg;
  sira::parse_widths("4,8,8,8,4", cfg);
  cfg.slices = 3;
  return cfg;
}

}  // namespace

// Loading `bytes` written to `file` must throw sira::Error whose message names
// the file and contains `expected`.
#define EXPECT_LOAD_ERROR(file, bytes, expected)                                         \
  do {                                                                                   \
    spit(file, bytes);                                                                   \
    try {                                                                                \
      sira::load_model(file);                                                            \
      ADD_FAILURE() << "loaded a corrupt file; expected an error containing: " << expected; \
    } catch (const sira::Error& e) {                                                     \
      const std::string msg = e.what();                                                  \
      EXPECT_EQ(msg.rfind(std::string(file) + ": ", 0), 0u) << msg;                     \
      EXPECT_NE(msg.find(expected), std::string::npos) << msg;                           \
    }                                                                                    \
  } while (0)

TEST_F(ModelFile, RoundTripKeepsEverything) {
  sira::TomoganConfig cfg;
  cfg.slices = 1;
  cfg.upsample = sira::Upsample::transposed;
  sira::Model m = sira::init_model(cfg, 7);
  m.norm = {"fixed", -0.125, 3.5e-4, 1.0, 99.0};
  m.trained = true;
  m.info["data"] = "shale \"quoted\" \xc3\xa9";
  const std::string p = path("m.sira");
  sira::save_model(m, p);
  EXPECT_TRUE(temporaries().empty());
  const sira::Model r = sira::load_model(p);
  EXPECT_EQ(r.format_version, 1);
  EXPECT_EQ(r.arch, "tomogan");
  EXPECT_EQ(r.config.slices, 1);
  EXPECT_EQ(r.config.upsample, sira::Upsample::transposed);
  EXPECT_EQ(sira::format_widths(r.config), sira::format_widths(cfg));
  EXPECT_EQ(r.norm.mode, "fixed");
  EXPECT_EQ(r.norm.offset, -0.125);
  EXPECT_EQ(r.norm.scale, 3.5e-4);
  EXPECT_EQ(r.norm.low_percentile, 1.0);
  EXPECT_EQ(r.norm.high_percentile, 99.0);
  EXPECT_TRUE(r.trained);
  EXPECT_EQ(r.info, m.info);
  ASSERT_EQ(r.tensors.size(), m.tensors.size());
  for (const auto& [name, t] : m.tensors) {
    EXPECT_EQ(r.tensor(name).shape, t.shape) << name;
    EXPECT_EQ(std::memcmp(r.tensor(name).data.data(), t.data.data(), t.data.size() * 4), 0) << name;
  }
  EXPECT_THROW(r.tensor("nope"), sira::Error);
}

TEST_F(ModelFile, FileIsStandardSafetensors) {
  const std::string p = path("m.sira");
  sira::save_model(sira::init_model({}, 1), p);
  const std::string file = slurp(p);
  const std::uint64_t n = header_length(file);
  EXPECT_EQ(n % 8, 0u);
  const json h = json::parse(file.substr(8, n));
  for (auto& [k, v] : h["__metadata__"].items()) EXPECT_TRUE(v.is_string()) << k;
  EXPECT_EQ(h["__metadata__"]["format"], "sira");
  EXPECT_EQ(h["stem.weight"]["dtype"], "F32");
  EXPECT_EQ(h["stem.weight"]["shape"], json({8, 3, 1, 1}));
  std::uint64_t bytes = 0;
  for (auto& [k, v] : h.items())
    if (k != "__metadata__") bytes += v["data_offsets"][1].get<std::uint64_t>() - v["data_offsets"][0].get<std::uint64_t>();
  EXPECT_EQ(bytes, 694913u * 4);
  EXPECT_EQ(file.size(), 8 + n + bytes);
}

TEST_F(ModelFile, MissingFileAndDirectory) {
  const std::string p = path("absent.sira");
  try {
    sira::load_model(p);
    FAIL();
  } catch (const sira::Error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
  }
  EXPECT_THROW(sira::load_model(dir_.string()), sira::Error);
}

TEST_F(ModelFile, RejectsBrokenContainer) {
  const std::string good_path = path("good.sira");
  sira::save_model(sira::init_model(small_config(), 3), good_path);
  const std::string good = slurp(good_path);
  ASSERT_NO_THROW(sira::load_model(good_path));
  const std::string p = path("bad.sira");

  EXPECT_LOAD_ERROR(p, "", "too short");
  EXPECT_LOAD_ERROR(p, good.substr(0, 5), "too short");
  EXPECT_LOAD_ERROR(p, good.substr(0, 8 + header_length(good) / 2), "exceeds the file size");
  std::string absurd = good;
  std::memset(absurd.data(), 0xff, 8);
  EXPECT_LOAD_ERROR(p, absurd, "absurd");
  std::string truncated_data = good.substr(0, good.size() - 3);
  EXPECT_LOAD_ERROR(p, truncated_data, "beyond the end of the data section");
  EXPECT_LOAD_ERROR(p, good + std::string(8, '\0'), "belong to no tensor");

  const Parts parts = split(good);
  EXPECT_LOAD_ERROR(p, join_raw("{\"a\": [1, 2", parts.data), "not valid JSON");
  EXPECT_LOAD_ERROR(p, join_raw("[1, 2, 3]", parts.data), "not a JSON object");
  EXPECT_LOAD_ERROR(p, join_raw(std::string(200000, '[') + std::string(200000, ']'), parts.data),
                    "not a JSON object");
  std::string binary_header = join_raw(parts.header.dump(), parts.data);
  binary_header[20] = '\xff';
  EXPECT_LOAD_ERROR(p, binary_header, "not valid JSON");
}

TEST_F(ModelFile, RejectsBrokenTensorEntries) {
  const std::string good_path = path("good.sira");
  sira::save_model(sira::init_model(small_config(), 3), good_path);
  const Parts good = split(slurp(good_path));
  const std::string p = path("bad.sira");
  auto edited = [&](const std::function<void(json&)>& edit) {
    Parts q = good;
    edit(q.header);
    return join(q);
  };
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"]["dtype"] = "Q7"; }), "unknown dtype 'Q7'");
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"].erase("dtype"); }), "no dtype");
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"]["extra"] = 1; }), "unknown field 'extra'");
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"] = 5; }), "is not an object");
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"]["shape"] = {-4}; }), "non-negative");
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"]["shape"] = "4"; }), "no shape array");
  EXPECT_LOAD_ERROR(p, edited([](json& h) {
                      h["stem.bias"]["shape"] = {1ull << 40, 1ull << 40, 1ull << 40};
                    }),
                    "shape overflows");
  EXPECT_LOAD_ERROR(p, edited([](json& h) {
                      h["stem.bias"]["shape"] = {std::numeric_limits<std::uint64_t>::max()};
                    }),
                    "shape overflows");
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"]["shape"] = {5}; }), "need 20");
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"]["data_offsets"] = {0}; }), "data_offsets");
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"]["data_offsets"] = {-1, 15}; }), "data_offsets");
  EXPECT_LOAD_ERROR(p, edited([](json& h) {
                      auto& o = h["stem.bias"]["data_offsets"];
                      o = {o[1], o[0]};
                    }),
                    "end < begin");
  // Point one tensor at another's bytes: overlap (and a hole elsewhere).
  EXPECT_LOAD_ERROR(p, edited([](json& h) { h["stem.bias"]["data_offsets"] = h["head.conv2.weight"]["data_offsets"]; }),
                    "");
  EXPECT_LOAD_ERROR(p, edited([](json& h) {
                      // stem.bias follows stem.weight; start it 4 bytes inside stem.weight.
                      const auto begin = h["stem.bias"]["data_offsets"][0].get<std::uint64_t>();
                      h["stem.bias"]["data_offsets"] = {begin - 4, begin + 12};
                    }),
                    "overlaps");
  EXPECT_LOAD_ERROR(p, edited([](json& h) {
                      const auto end = h["head.conv2.bias"]["data_offsets"][1].get<std::uint64_t>();
                      h["head.conv2.bias"]["data_offsets"] = {end + 4, end + 8};
                    }),
                    "");
  EXPECT_LOAD_ERROR(p, edited([](json& h) {
                      h["stem.bias"]["data_offsets"] = {1ull << 62, (1ull << 62) + 16};
                    }),
                    "");
}

TEST_F(ModelFile, RejectsWrongTensorsForTheConfiguration) {
  const std::string good_path = path("good.sira");
  sira::save_model(sira::init_model(sira::TomoganConfig{}, 3), good_path);
  const Tensors good = tensors_of(slurp(good_path));
  const std::string p = path("bad.sira");
  auto edited = [&](const std::function<void(Tensors&)>& edit) {
    Tensors t = good;
    edit(t);
    return assemble(t);
  };
  spit(p, assemble(good));  // sanity: reassembling alone gives a loadable file
  EXPECT_NO_THROW(sira::load_model(p));
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.blobs.erase("enc.1.conv2.bias"); }),
                    "tensor 'enc.1.conv2.bias' is missing");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.blobs["extra.weight"] = {"F32", {1}, std::string(4, '\0')}; }),
                    "unexpected tensor 'extra.weight'");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) {
                      auto& b = t.blobs["enc.1.conv2.weight"];
                      b.bytes.resize(64 * 32 * 9 * 4);
                      b.shape = {64, 32, 3, 3};
                    }),
                    "tensor 'enc.1.conv2.weight' has shape [64,32,3,3], expected [64,64,3,3] for this configuration");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.blobs["stem.bias"].shape = {2, 4}; }), "has shape [2,4], expected [8]");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) {
                      auto& b = t.blobs["stem.bias"];
                      b.dtype = "F16";
                      b.shape = {16};
                    }),
                    "dtype F16");
  for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    EXPECT_LOAD_ERROR(p, edited([bad](Tensors& t) { std::memcpy(t.blobs["dec.2.conv1.weight"].bytes.data() + 40, &bad, 4); }),
                      "tensor 'dec.2.conv1.weight' holds a non-finite value");
  }
}

TEST_F(ModelFile, RejectsBadMetadata) {
  const std::string good_path = path("good.sira");
  sira::save_model(sira::init_model(small_config(), 3), good_path);
  const Tensors good = tensors_of(slurp(good_path));
  ASSERT_NO_THROW(sira::load_model(good_path));
  const std::string p = path("bad.sira");
  auto meta = [&](const std::function<void(json&)>& edit) {
    Tensors t = good;
    edit(t.metadata);
    return assemble(t);
  };
  // Sanity: reassembling without an edit gives a loadable file.
  spit(p, meta([](json&) {}));
  EXPECT_NO_THROW(sira::load_model(p));

  EXPECT_LOAD_ERROR(p, meta([](json& m) { m = json::object(); }), "no sira metadata");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m = 3; }), "__metadata__ is not an object");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["slices"] = 3; }), "metadata 'slices' is not a string");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["format"] = "gguf"; }), "expected 'sira'");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["format_version"] = "3"; }), "version 3 is newer than this sira supports (2)");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["format_version"] = "one"; }), "expected an integer");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["format_version"] = "0"; }), "version 0 is invalid");
  for (const char* key : {"arch", "slices", "levels", "widths", "upsample", "normalization", "trained"})
    EXPECT_LOAD_ERROR(p, meta([key](json& m) { m.erase(key); }), std::string("metadata '") + key + "' is missing");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["colour"] = "blue"; }), "unknown metadata key 'colour'");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["info."] = "x"; }), "unknown metadata key 'info.'");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["arch"] = "resnet"; }), "architecture 'resnet'");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["slices"] = "2"; }), "input slices 2");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["slices"] = "99999999999999999999"; }), "expected an integer");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["slices"] = "3x"; }), "expected an integer");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["levels"] = "2"; }), "'levels' is 2 but 'widths' describes 1");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["widths"] = "{"; }), "'widths' is not valid JSON");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["widths"] = "[1]"; }), "'widths' is not a JSON object");
  EXPECT_LOAD_ERROR(p, meta([](json& m) {
                      m["widths"] = R"({"stem":4,"encoder":[8],"bottleneck":100000,"decoder":[8],"head":4})";
                    }),
                    "width of bottleneck is 100000");
  EXPECT_LOAD_ERROR(p, meta([](json& m) {
                      m["widths"] = R"({"stem":4,"encoder":[8],"bottleneck":1e300,"decoder":[8],"head":4})";
                    }),
                    "needs an integer 'bottleneck'");
  EXPECT_LOAD_ERROR(p, meta([](json& m) {
                      m["widths"] = R"({"stem":4,"encoder":[8,"x"],"bottleneck":8,"decoder":[8],"head":4})";
                    }),
                    "expected integers");
  EXPECT_LOAD_ERROR(p, meta([](json& m) {
                      m["widths"] = R"({"stem":4,"encoder":[8],"bottleneck":8,"decoder":[8],"head":4,"tail":1})";
                    }),
                    "unknown field 'tail'");
  EXPECT_LOAD_ERROR(p, meta([](json& m) {
                      m["widths"] = R"({"stem":4,"encoder":[],"bottleneck":8,"decoder":[],"head":4})";
                      m["levels"] = "0";
                    }),
                    "levels 0");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["upsample"] = "bicubic"; }), "unknown upsampling 'bicubic'");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["normalization"] = "nope"; }), "'normalization' is not valid JSON");
  EXPECT_LOAD_ERROR(p, meta([](json& m) {
                      m["normalization"] = R"({"mode":"fixed","offset":0,"scale":0,"percentiles":[1,99]})";
                    }),
                    "scale 0");
  EXPECT_LOAD_ERROR(p, meta([](json& m) {
                      m["normalization"] = R"({"mode":"zscore","offset":0,"scale":1,"percentiles":[1,99]})";
                    }),
                    "mode 'zscore'");
  EXPECT_LOAD_ERROR(p, meta([](json& m) {
                      m["normalization"] = R"({"mode":"fixed","offset":0,"scale":1,"percentiles":[99,1]})";
                    }),
                    "percentiles");
  EXPECT_LOAD_ERROR(p, meta([](json& m) {
                      m["normalization"] = R"({"mode":"fixed","offset":0,"scale":1})";
                    }),
                    "percentiles");
  EXPECT_LOAD_ERROR(p, meta([](json& m) { m["trained"] = "maybe"; }), "'trained' is 'maybe'");
}

// A file of a future version (new dtypes and metadata, say) must be refused
// for its version, not for its unfamiliar dtype or metadata.
TEST_F(ModelFile, RefusesNewerVersionBeforeAnythingElse) {
  const std::string good_path = path("good.sira");
  sira::save_model(sira::init_model(small_config(), 3), good_path);
  Tensors t = tensors_of(slurp(good_path));
  t.metadata["format_version"] = "3";
  t.metadata["quantization"] = R"({"scheme":"per_channel_symmetric"})";
  t.blobs["stem.weight"].dtype = "I8";
  t.blobs["stem.weight"].bytes.resize(12);
  t.blobs["stem.weight.scale"] = {"F32", {4}, std::string(16, '\0')};
  EXPECT_LOAD_ERROR(path("v2.sira"), assemble(t), "version 3 is newer");
}

TEST_F(ModelFile, SaveRefusesInconsistentModels) {
  sira::Model m = sira::init_model(small_config(), 1);
  const std::string p = path("out.sira");
  sira::Model bad = m;
  bad.tensors.erase("stem.bias");
  EXPECT_THROW(sira::save_model(bad, p), sira::Error);
  bad = m;
  bad.tensors["stem.bias"].data[0] = std::nanf("");
  EXPECT_THROW(sira::save_model(bad, p), sira::Error);
  bad = m;
  bad.tensors["stem.bias"].data.pop_back();
  EXPECT_THROW(sira::save_model(bad, p), sira::Error);
  bad = m;
  bad.norm.scale = 0;
  EXPECT_THROW(sira::save_model(bad, p), sira::Error);
  bad = m;
  bad.format_version = 3;
  EXPECT_THROW(sira::save_model(bad, p), sira::Error);
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(temporaries().empty());
  EXPECT_THROW(sira::save_model(m, path("no/such/dir/out.sira")), sira::Error);
}

// Random damage to a small file: every outcome is a loaded model or an Error.
TEST_F(ModelFile, SurvivesRandomCorruption) {
  const std::string good_path = path("good.sira");
  sira::save_model(sira::init_model(small_config(), 3), good_path);
  const std::string good = slurp(good_path);
  const std::size_t header_end = 8 + header_length(good);
  const std::string p = path("fuzz.sira");
  std::mt19937 rng(12345);
  int errors = 0;
  for (int i = 0; i < 200; ++i) {
    std::string bytes = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % (i % 4 == 0 ? bytes.size() : header_end);
      bytes[at] = static_cast<char>(rng() % 3 == 0 ? "{}[],:\"0 e-"[rng() % 11] : rng());
    }
    if (i % 7 == 0) bytes.resize(rng() % bytes.size());
    spit(p, bytes);
    try {
      sira::load_model(p);
    } catch (const sira::Error& e) {
      ++errors;
      EXPECT_EQ(std::string(e.what()).rfind(p + ": ", 0), 0u) << e.what();
    }
  }
  EXPECT_GT(errors, 150);
}

// ---- version 2: quantised models (docs/model-format.md, docs/quantization.md) ----

namespace {

sira::Model quantised_small_model() {
  const sira::Model m = sira::init_model(small_config(), 3);
  sira::Stack calib(3, 16, 16);
  for (std::size_t i = 0; i < calib.size(); ++i) calib.data[i] = float(std::sin(0.37 * double(i)) + 0.01 * double(i % 7));
  sira::QuantizeOptions o;
  o.threads = 1;
  return sira::quantize_model(m, {{"calib", calib}}, o);
}

}  // namespace

// From memory: the same model as from its file (an int8 model, so its I8/I32
// tensors and quantisation metadata take that path too); errors name the given name.
TEST_F(ModelFile, LoadsFromMemoryAsFromTheFile) {
  const sira::Model m = quantised_small_model();
  const std::string p = path("m.sira");
  sira::save_model(m, p);
  const std::string bytes = slurp(p);
  const sira::Model a = sira::load_model(p), b = sira::load_model_from_memory(bytes.data(), bytes.size());
  ASSERT_TRUE(a.quant && b.quant);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    EXPECT_EQ(b.tensor(name).shape, t.shape) << name;
    EXPECT_EQ(std::memcmp(b.tensor(name).data.data(), t.data.data(), t.data.size() * 4), 0) << name;
  }
  EXPECT_EQ(a.quant->layers.size(), b.quant->layers.size());
  EXPECT_EQ(a.info, b.info);
  auto message_of = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const sira::Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string cut = bytes.substr(0, bytes.size() - 3);
  const std::string msg = message_of([&] { sira::load_model_from_memory(cut.data(), cut.size(), "blob 7"); });
  EXPECT_EQ(msg.rfind("blob 7: ", 0), 0u) << msg;
  EXPECT_NE(message_of([&] { sira::load_model_from_memory(nullptr, 10); }).find("null pointer"), std::string::npos);
  EXPECT_NE(message_of([&] { sira::load_model_from_memory("", 0); }).find("model in memory: "), std::string::npos);
}

TEST_F(ModelFile, QuantisedModelRoundTrips) {
  const sira::Model q = quantised_small_model();
  const std::string p = path("q.sira");
  sira::save_model(q, p);
  const Tensors t = tensors_of(slurp(p));
  EXPECT_EQ(t.metadata["format_version"], "2");
  EXPECT_EQ(t.blobs.at("enc.0.conv1.weight").dtype, "I8");
  EXPECT_EQ(t.blobs.at("enc.0.conv1.bias").dtype, "I32");
  EXPECT_EQ(t.blobs.at("enc.0.conv1.weight_scale").shape, json::array({8}));
  const sira::Model r = sira::load_model(p);
  EXPECT_EQ(r.format_version, 2);
  ASSERT_TRUE(r.quant.has_value());
  EXPECT_EQ(r.quant->activations, q.quant->activations);
  EXPECT_EQ(r.quant->weight_bits, 8);
  for (const auto& [name, layer] : q.quant->layers) {
    EXPECT_EQ(r.quant->layers.at(name).weight, layer.weight) << name;
    EXPECT_EQ(r.quant->layers.at(name).weight_scale, layer.weight_scale) << name;
    EXPECT_EQ(r.quant->layers.at(name).bias, layer.bias) << name;
  }
  for (const auto& [name, tensor] : q.tensors) EXPECT_EQ(r.tensor(name).data, tensor.data) << name;
  // The dequantised fp32 weight is code x channel scale.
  const auto& l = r.quant->layers.at("stem");
  EXPECT_EQ(r.tensor("stem.weight").data[5], float(l.weight[5]) * l.weight_scale[5 / 3]);
  // An fp32 model is still written as version 1.
  sira::save_model(sira::init_model(small_config(), 3), path("f.sira"));
  EXPECT_EQ(tensors_of(slurp(path("f.sira"))).metadata["format_version"], "1");
}

TEST_F(ModelFile, RefusesBadQuantisedFiles) {
  const std::string good_path = path("q.sira");
  sira::save_model(quantised_small_model(), good_path);
  const Tensors good = tensors_of(slurp(good_path));
  const std::string p = path("bad.sira");
  const auto edited = [&](const std::function<void(Tensors&)>& edit) {
    Tensors t = good;
    edit(t);
    return assemble(t);
  };
  const auto quant_edit = [&](const std::function<void(json&)>& edit) {
    return edited([&](Tensors& t) {
      json q = json::parse(t.metadata["quantization"].get<std::string>());
      edit(q);
      t.metadata["quantization"] = q.dump();
    });
  };
  spit(p, edited([](Tensors&) {}));
  EXPECT_NO_THROW(sira::load_model(p));

  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.metadata.erase("quantization"); }), "'quantization' is missing");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.metadata["format_version"] = "1"; }), "needs format version 2");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"].erase("enc.0.pool"); }),
                    "activation 'enc.0.pool' has no quantisation parameters");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"]["dec.0.concat"][0] = 0.5; }),
                    "must share one scale");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"]["dec.0.up"][1] = 7; }), "must share one scale");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"]["stem"][0] = 0.0; }), "has scale 0");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"]["stem"][0] = -1.0; }), "has scale -1");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"]["stem"][0] = 1e300; }), "has scale");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"]["input"][1] = 300; }), "zero point");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"]["input"] = {0.1}; }), "expected [scale, zero_point]");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"]["ghost"] = {0.1, 0}; }), "'ghost'");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["activations"]["head.conv2"] = {0.1, 0}; }), "'head.conv2'");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["precision"].erase("stem"); }), "layer 'stem' has no precision");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["precision"]["stem"] = "int4"; }), "precision 'int4' is unknown");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["weight_bits"] = 6; }), "'weight_bits' 8 or 7");
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["colour"] = 1; }), "unknown field 'colour'");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.blobs.erase("stem.weight_scale"); }),
                    "tensor 'stem.weight_scale' is missing");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.blobs["stem.weight_scale"].shape = {2, 2}; }),
                    "'stem.weight_scale' has shape [2,2]");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) {
                      const float minus = -1.0f;
                      std::memcpy(t.blobs["stem.weight_scale"].bytes.data(), &minus, 4);
                    }),
                    "'stem.weight_scale' holds -1");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.blobs["stem.weight"].bytes[0] = char(-128); }),
                    "outside [-127, 127]");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.blobs["stem.bias"].dtype = "F32"; }),
                    "'stem.bias' has dtype F32, expected I32");
  // A layer marked fp32 must store F32 tensors (and no weight scale).
  EXPECT_LOAD_ERROR(p, quant_edit([](json& q) { q["precision"]["stem"] = "fp32"; }),
                    "'stem.bias' has dtype I32, expected F32");
  EXPECT_LOAD_ERROR(p, edited([](Tensors& t) { t.blobs["enc.0.conv1.bias_scale"] = {"F32", {1}, std::string(4, 0)}; }),
                    "unexpected tensor 'enc.0.conv1.bias_scale'");
}
