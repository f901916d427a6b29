// sira: scientific image restoration anywhere. Entry point of the CLI; the
// subcommands live in cmd_*.cpp and register themselves (command.hpp).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>

#include "command.hpp"
#include "sira/error.hpp"

namespace sira::cli {

std::vector<CommandEntry>& registry() {
  static std::vector<CommandEntry> commands;
  return commands;
}

GlobalOptions& global_options() {
  static GlobalOptions options;
  return options;
}

void status(const std::string& message) {
  if (!global_options().quiet) std::cerr << message << "\n";
}

// The number of processes an MPI launcher started together with this one
// (1 when none did): OpenMPI's mpirun and MPICH's Hydra say so in the environment.
int launcher_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* text = std::getenv(name)) return std::max(1, std::atoi(text));
  return 1;
}

// Under mpirun -np N every rank would run the whole command and write the same
// output; only the MPI build's sira denoise and sira recon share the work, so the
// rest refuse.
bool runs_over_ranks(const std::string& command) {
#ifdef SIRA_HAVE_MPI
  return command == "denoise" || command == "recon";
#else
  (void)command;
  return false;
#endif
}

}  // namespace sira::cli

int main(int argc, char** argv) {
  using namespace sira::cli;
  global_options().argv.assign(argv, argv + argc);
  CLI::App app{"sira - scientific image restoration anywhere: denoise low-dose tomography\n"
               "with TomoGAN-family networks on any CPU (fp32 / bf16 / int8)."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sira ") + sira::sira_version());
  app.add_flag("-q,--quiet", global_options().quiet, "No progress bar or status lines");
  app.footer("Run 'sira COMMAND --help' for the options and examples of each command.");

  std::vector<std::pair<CLI::App*, Runner>> runners;
  auto& commands = registry();
  std::sort(commands.begin(), commands.end(),
            [](const CommandEntry& a, const CommandEntry& b) { return a.name < b.name; });
  for (auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    sub->add_flag("-q,--quiet", global_options().quiet, "No progress bar or status lines");
    runners.emplace_back(sub, c.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help/--version exit 0; every usage error exits 2, the shell convention.
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::string name = "sira";
  try {
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) {
        name = "sira " + sub->get_name();
        if (const int ranks = launcher_ranks(); ranks > 1 && !runs_over_ranks(sub->get_name()))
          sira::fail("started by mpirun with ", ranks, " ranks, but only 'sira denoise' and 'sira recon' of the MPI build "
                     "(build-mpi/sira, docs/scale.md) shares its work over ranks; run this command as one process");
        return run();
      }
    }
  } catch (const sira::Error& e) {
    std::cerr << name << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << name << ": error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << name << ": error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
