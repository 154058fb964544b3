// Prometheus metrics of the HTTP adapter (text exposition format 0.0.4).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace portal::http {

class Metrics {
 public:
  // Upper bounds (seconds) of portal_http_request_duration_seconds; +Inf is implied.
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

  // One finished request. route is the route's name ("GET /providers/{id}") or
  // "unmatched", so that label cardinality stays bounded whatever clients send.
  void observe(std::string_view route, std::string_view method, int status, double seconds);

  struct Sample {
    std::string name;  // metric name
    std::string help;
    std::string type;  // "gauge" or "counter"
    double value = 0;
  };
  // The request metrics followed by the given samples (engine and store state
  // read at scrape time).
  std::string render(const std::vector<Sample>& extra) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram, std::less<>> durations_;
};

// Escapes a Prometheus label value (backslash, quote, newline).
std::string prometheus_label(std::string_view value);

}  // namespace portal::http
