// sira train, as the sira executable sees it: it runs the sibling executable
// sira-train (cmd_train.cpp + libtorch) with the same arguments. Keeping
// libtorch out of this process saves every other command ~130 MB of resident
// libraries and ~0.7 s of start-up (measured in docs/benchmarks.md), which
// matters on the small machines next to an instrument.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "command.hpp"
#include "sira/error.hpp"

namespace sira::cli {
namespace {

std::filesystem::path this_executable() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) fail("cannot locate the sira executable (/proc/self/exe: ", ec.message(), ")");
  return self;
}

// The commands sira-train runs: every argument after the command's name,
// --help included, belongs to it.
Setup forward_to_trainer(const std::string& command) {
  return [command](CLI::App& sub) -> Runner {
  sub.prefix_command();
  sub.set_help_flag();
  return [&sub, command]() -> int {
    const std::filesystem::path trainer = this_executable().parent_path() / "sira-train";
    if (!std::filesystem::exists(trainer))
      fail("training is not available: ", trainer.string(),
           " is missing (sira was built without libtorch; configure with -DSIRA_WITH_TORCH=ON)");
    // libtorch's OpenMP threads spin while idle by default; beside another busy
    // process (a second training, a build, the instrument's own software) that
    // spinning slows both several times over. Passive waiting costs a few
    // percent alone. The caller's own setting wins.
    setenv("OMP_WAIT_POLICY", "passive", 0);
    std::vector<std::string> args{"sira", command};
    if (global_options().quiet) args.emplace_back("--quiet");
    for (const std::string& a : sub.remaining()) args.push_back(a);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(trainer.c_str(), argv.data());
    fail("cannot run ", trainer.string(), ": ", std::strerror(errno));
  };
  };
}

Command train_command("train", "Train a denoising model on a pair file (libtorch)", forward_to_trainer("train"));
Command adapt_command("adapt", "Fine-tune a model to one scan without clean data (Noise2Inverse, libtorch)",
                      forward_to_trainer("adapt"));

}  // namespace
}  // namespace sira::cli
