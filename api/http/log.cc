#include "http/log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/async.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "text/text.h"

namespace portal::http {

using text::json_quote;

namespace {

LogFormat g_format = LogFormat::kJson;
std::shared_ptr<spdlog::logger> g_logger;

// stderr in blocks: access lines gather until 64 KiB, a message other than an
// access line, or the periodic flush (every second) writes them out. Under load
// that is one write() for hundreds of lines instead of one per request.
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= kBlock) flush_();
  }
  void flush_() override {
    std::size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr closed or full disk: the lines cannot go anywhere
      done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kBlock = 64 << 10;
  std::string buffer_;
};

spdlog::logger& logger() {
  if (!g_logger) init_logging(g_format);
  return *g_logger;
}

void log_message(spdlog::level::level_enum level, std::string_view message) {
  if (g_format == LogFormat::kJson) {
    logger().log(level, "\"msg\":{}", json_quote(message));
  } else {
    logger().log(level, "{}", message);
  }
  logger().flush();  // operational messages are rare and awaited: out at once
}

}  // namespace

void init_logging(LogFormat format) {
  g_format = format;
  if (g_logger) return;
  spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<BufferedStderrSink>();
  // Block rather than drop when the queue is full: an access log with holes is
  // worse than a request that waits for stderr.
  g_logger = std::make_shared<spdlog::async_logger>("portald", sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::block);
  if (format == LogFormat::kJson) {
    g_logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})",
                          spdlog::pattern_time_type::utc);
  } else {
    g_logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
  }
  g_logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(g_logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

void flush_logging() {
  if (g_logger) g_logger->flush();
  spdlog::shutdown();
  g_logger.reset();
}

void log_access(const AccessEntry& e) {
  if (g_format == LogFormat::kJson) {
    std::string line = "\"msg\":\"request\",\"remote\":" + json_quote(e.remote) +
                       ",\"method\":" + json_quote(e.method) + ",\"route\":" + json_quote(e.route) +
                       ",\"path\":" + json_quote(e.path) + ",\"status\":" + std::to_string(e.status) +
                       ",\"bytes\":" + std::to_string(e.bytes) +
                       ",\"duration_ms\":" + fmt::format("{:.3f}", e.duration_ms) +
                       ",\"user\":" + (e.user.empty() ? std::string("null") : json_quote(e.user));
    if (!e.error.empty()) line += ",\"error\":" + json_quote(e.error);
    logger().info("{}", line);
  } else {
    // The path is the client's text: control characters would forge log lines.
    std::string path(e.path);
    for (auto& c : path) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    logger().info("{} {} {} -> {} {}B {:.3f}ms user={} route=\"{}\"{}{}", e.remote, e.method, path, e.status,
                  e.bytes, e.duration_ms, e.user.empty() ? "-" : e.user, e.route,
                  e.error.empty() ? "" : " error=", e.error);
  }
}

void log_info(std::string_view message) {
  log_message(spdlog::level::info, message);
}
void log_warn(std::string_view message) {
  log_message(spdlog::level::warn, message);
}
void log_error(std::string_view message) {
  log_message(spdlog::level::err, message);
}

}  // namespace portal::http
