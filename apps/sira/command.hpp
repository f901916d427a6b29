// Subcommand registry of the `sira` CLI. Each cmd_*.cpp registers itself with a
// static Command object; main() builds the CLI11 app from the registry.
// A subcommand's setup adds its options to the CLI11 sub-app and returns the
// function that runs it (returning the process exit code).
#pragma once

#include <CLI/CLI.hpp>
#include <omp.h>

#include "sira/engine.hpp"
#include "sira/provenance.hpp"
#include <functional>
#include <string>
#include <vector>

namespace sira::cli {

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App& sub)>;

struct CommandEntry {
  std::string name;
  std::string summary;
  Setup setup;
};

std::vector<CommandEntry>& registry();

struct Command {
  Command(std::string name, std::string summary, Setup setup) {
    registry().push_back({std::move(name), std::move(summary), std::move(setup)});
  }
};

// Options shared by many subcommands.
struct GlobalOptions {
  bool quiet = false;
  std::vector<std::string> argv;  // the command line, for provenance
};
GlobalOptions& global_options();

// What every output of this run records first: sira's version, the command
// line (shell-quoted), the time (UTC); the command adds its own fields.
Provenance run_provenance();

// A command's --threads for the whole process: the engine limits itself for each
// call, the command's other parallel loops (conversion, FBP, checks) follow this.
inline void use_threads(int threads) { omp_set_num_threads(resolve_threads(threads)); }

// Prints a status line on stderr unless --quiet.
void status(const std::string& message);

}  // namespace sira::cli
