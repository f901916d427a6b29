#include "service_log.hpp"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>

namespace sira::cli {

void service_log(const char* program, const std::string& line) {
  static std::mutex mutex;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const long ms = long(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::ostringstream os;
  os << std::put_time(&tm, "%FT%T") << '.' << std::setw(3) << std::setfill('0') << ms << "Z " << program << ": "
     << line;
  std::lock_guard lock(mutex);
  std::cerr << os.str() << std::endl;
}

}  // namespace sira::cli
