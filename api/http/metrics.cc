#include "http/metrics.h"

#include <cmath>
#include <sstream>

namespace portal::http {
namespace {

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream out;
  out.precision(9);
  out << v;
  return out.str();
}

}  // namespace

std::string prometheus_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Metrics::observe(std::string_view route, std::string_view method, int status, double seconds) {
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  auto it = durations_.find(route);
  if (it == durations_.end()) it = durations_.emplace(std::string(route), Histogram{}).first;
  if (bucket < kBuckets.size()) ++it->second.buckets[bucket];
  ++it->second.count;
  it->second.sum += seconds;
}

std::string Metrics::render(const std::vector<Sample>& extra) const {
  std::string out;
  {
    std::lock_guard lock(mu_);
    out += "# HELP portal_http_requests_total HTTP requests answered, by route, method and status.\n";
    out += "# TYPE portal_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
      const auto& [route, method, status] = key;
      out += "portal_http_requests_total{route=\"" + prometheus_label(route) + "\",method=\"" +
             prometheus_label(method) + "\",status=\"" + std::to_string(status) + "\"} " +
             std::to_string(count) + "\n";
    }
    out +=
        "# HELP portal_http_request_duration_seconds Time from a complete request to its response, by "
        "route.\n";
    out += "# TYPE portal_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : durations_) {
      std::string label = prometheus_label(route);
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.buckets[i];
        out += "portal_http_request_duration_seconds_bucket{route=\"" + label + "\",le=\"" +
               format_number(kBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
      }
      out += "portal_http_request_duration_seconds_bucket{route=\"" + label + "\",le=\"+Inf\"} " +
             std::to_string(h.count) + "\n";
      out +=
          "portal_http_request_duration_seconds_sum{route=\"" + label + "\"} " + format_number(h.sum) + "\n";
      out += "portal_http_request_duration_seconds_count{route=\"" + label + "\"} " +
             std::to_string(h.count) + "\n";
    }
  }
  for (const auto& s : extra) {
    out += "# HELP " + s.name + " " + s.help + "\n";
    out += "# TYPE " + s.name + " " + s.type + "\n";
    out += s.name + " " + format_number(s.value) + "\n";
  }
  return out;
}

}  // namespace portal::http
