// portald's logging through spdlog, to stderr: one line per request (the access
// log) and operational messages, as JSON lines (for log shippers) or text (for
// people at a terminal). Writing happens on spdlog's background thread so that a
// slow terminal or pipe does not stall the I/O threads. Access lines are written
// in blocks (64 KiB, or every second); other messages are written at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portal::http {

enum class LogFormat { kJson, kText };

void init_logging(LogFormat format);
void flush_logging();  // before exit: drains the background queue

struct AccessEntry {
  std::string_view remote, method, route, path;
  int status = 0;
  std::size_t bytes = 0;  // response body bytes
  double duration_ms = 0;
  std::string_view user;   // the token's subject, "" when anonymous
  std::string_view error;  // why a request failed (401 reason, exception text), for the operator
};
void log_access(const AccessEntry& entry);

void log_info(std::string_view message);
void log_warn(std::string_view message);
void log_error(std::string_view message);

}  // namespace portal::http
