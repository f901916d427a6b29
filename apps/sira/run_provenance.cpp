// The fields every output of a sira run starts its provenance with.
#include <ctime>

#include "command.hpp"

namespace sira::cli {
namespace {

// One argument as a POSIX shell would need it to read it back.
std::string shell_quoted(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                            "@%+=:,./-_") == std::string::npos)
    return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

Provenance run_provenance() {
  std::string command;
  for (const std::string& arg : global_options().argv) command += (command.empty() ? "" : " ") + shell_quoted(arg);
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
  Provenance p;
  p.add("sira_version", sira_version()).add("command", command).add("created", std::string(when));
  return p;
}

}  // namespace sira::cli
