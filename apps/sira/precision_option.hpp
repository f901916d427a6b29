// --precision fp32 | bf16 | int8: the name is checked by CLI11 (the message every
// sira command gives) and parsed into the engine's Precision once, here.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "sira/engine.hpp"

namespace sira::cli {

inline CLI::Option* add_precision_option(CLI::App& sub, Precision& target, const std::string& help) {
  return sub
      .add_option_function<std::string>(
          "--precision", [&target](const std::string& name) { target = parse_precision(name); }, help)
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}))
      ->default_str(precision_name(target));
}

}  // namespace sira::cli
