#include "sira/train/recipe.hpp"

#include <nlohmann/json.hpp>

#include <sstream>

#include "sira/error.hpp"

namespace sira::train {

using nlohmann::json;

Recipe recipe_of(const TrainOptions& o, const Normalization& norm) {
  Recipe r;
  r.crop = o.crop;
  r.batch = o.batch;
  r.d_steps = o.d_steps;
  r.lr = o.lr;
  r.weights = o.weights;
  r.perceptual = o.perceptual.empty() ? "ssim" : o.perceptual;
  r.sampling = o.sampling;
  r.norm = norm;
  return r;
}

std::string format_recipe(const Recipe& r) {
  return json{{"crop", r.crop},
              {"batch", r.batch},
              {"d_steps", r.d_steps},
              {"lr", r.lr},
              {"loss_weights", {r.weights.adversarial, r.weights.mse, r.weights.perceptual}},
              {"perceptual", r.perceptual},
              {"sampling", r.sampling},
              {"normalization", {{"mode", r.norm.mode}, {"block", r.norm.block}}}}
      .dump();
}

namespace {

template <typename T>
T field(const json& j, const char* name, const std::string& where) {
  if (!j.contains(name)) fail(where, ": info.recipe has no '", name, "'");
  try {
    return j.at(name).get<T>();
  } catch (const json::exception&) {
    fail(where, ": info.recipe field '", name, "' has the wrong type (", j.at(name).dump(), ")");
  }
}

double number(const std::string& text, const std::string& key, const std::string& where) {
  std::istringstream is(text);
  double v = 0;
  if (!(is >> v) || !(is >> std::ws).eof()) fail(where, ": info.", key, " is '", text, "', expected a number");
  return v;
}

}  // namespace

std::optional<Recipe> model_recipe(const Model& model, const std::string& where) {
  Recipe r;
  r.norm = model.norm;
  if (const auto it = model.info.find("recipe"); it != model.info.end()) {
    json j;
    try {
      j = json::parse(it->second);
    } catch (const json::exception& e) {
      fail(where, ": info.recipe is not valid JSON (", e.what(), ")");
    }
    if (!j.is_object()) fail(where, ": info.recipe is not a JSON object");
    r.crop = field<int>(j, "crop", where);
    r.batch = field<int>(j, "batch", where);
    r.d_steps = field<int>(j, "d_steps", where);
    r.lr = field<double>(j, "lr", where);
    const auto w = field<std::vector<double>>(j, "loss_weights", where);
    if (w.size() != 3) fail(where, ": info.recipe loss_weights needs 3 numbers (adv, mse, perc)");
    r.weights = {w[0], w[1], w[2]};
    r.perceptual = field<std::string>(j, "perceptual", where);
    r.sampling = field<std::string>(j, "sampling", where);
    return r;
  }
  // Models from before info.recipe: the separate entries the trainer wrote.
  const auto& info = model.info;
  for (const char* key : {"loss_weights", "lr", "d_steps", "crop", "batch"})
    if (!info.count(key)) return std::nullopt;
  std::istringstream weights(info.at("loss_weights"));
  char c1 = 0, c2 = 0;
  if (!(weights >> r.weights.adversarial >> c1 >> r.weights.mse >> c2 >> r.weights.perceptual) || c1 != ',' ||
      c2 != ',')
    fail(where, ": info.loss_weights is '", info.at("loss_weights"), "', expected adv,mse,perc");
  r.lr = number(info.at("lr"), "lr", where);
  r.d_steps = int(number(info.at("d_steps"), "d_steps", where));
  r.crop = int(number(info.at("crop"), "crop", where));
  r.batch = int(number(info.at("batch"), "batch", where));
  const auto perceptual = info.find("perceptual");
  r.perceptual = perceptual == info.end() || perceptual->second.rfind("ssim", 0) == 0 ? "ssim" : perceptual->second;
  r.sampling = "size";
  return r;
}

std::string apply_recipe(const Recipe& r, TrainOptions& o, const std::function<bool(const std::string&)>& given) {
  std::ostringstream set;
  auto take = [&](const char* name, auto& option, const auto& value) {
    if (given(name)) return;
    option = value;
    set << (set.tellp() > 0 ? " " : "") << name << "=" << value;
  };
  take("lr", o.lr, r.lr);
  take("d-steps", o.d_steps, r.d_steps);
  take("crop", o.crop, r.crop);
  take("batch", o.batch, r.batch);
  take("sampling", o.sampling, r.sampling);
  if (!given("loss-weights")) {
    o.weights = r.weights;
    set << (set.tellp() > 0 ? " " : "") << "loss-weights=" << r.weights.adversarial << "," << r.weights.mse << ","
        << r.weights.perceptual;
  }
  if (!given("perceptual") && r.perceptual != "ssim") {
    o.perceptual = r.perceptual;
    set << " perceptual=" << r.perceptual;
  }
  return set.str();
}

}  // namespace sira::train
