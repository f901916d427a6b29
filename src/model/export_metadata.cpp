#include "model/export_metadata.hpp"

namespace sira {

nlohmann::json normalization_metadata(const Normalization& nm) {
  return {{"mode", nm.mode},
          {"offset", nm.offset},
          {"scale", nm.scale},
          {"percentiles", {nm.low_percentile, nm.high_percentile}},
          {"block", nm.block},
          {"formula", "x_net = (x - offset) * scale; y = y_net / scale + offset"}};
}

}  // namespace sira
