// Text on the wire and on the terminal, shared by portald's routes and access log
// and by portalctl: JSON written in order without an intermediate tree (escaped as
// RFC 8259 requires), and ISO 8601 UTC instants computed arithmetically (no
// gmtime, no printf), since the busiest responses are lists of both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portal::text {

// Appends `s` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);
// The same, as a new string.
std::string json_quote(std::string_view s);

// A JSON document built in order, compact (one line) or indented by two spaces.
class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view s);
  JsonWriter& number(std::int64_t n);
  JsonWriter& boolean(bool b);
  JsonWriter& null();
  // Shorthands for a key and its value.
  JsonWriter& field(std::string_view k, std::string_view s) { return key(k).string(s); }
  JsonWriter& field(std::string_view k, const char* s) { return key(k).string(s); }
  JsonWriter& field(std::string_view k, const std::string& s) { return key(k).string(s); }
  JsonWriter& field(std::string_view k, std::int64_t n) { return key(k).number(n); }
  JsonWriter& field(std::string_view k, int n) { return key(k).number(n); }
  JsonWriter& field(std::string_view k, bool b) { return key(k).boolean(b); }
  JsonWriter& field(std::string_view k, std::nullptr_t) { return key(k).null(); }

  void reserve(std::size_t bytes) { out_.reserve(bytes); }
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();
  void newline();
  JsonWriter& close(char bracket);

  bool pretty_;
  std::string out_;
  // Per open container: whether it has a member yet.
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

inline constexpr std::int64_t kMicrosPerDay = 86'400'000'000LL;

// The system clock, UTC microseconds: the instants the formats above read and write.
std::int64_t now_micros();

struct Civil {
  std::int64_t year;
  unsigned month, day;
};
// Days since 1970-01-01 to and from a civil date (proleptic Gregorian; Howard
// Hinnant's algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
Civil civil_from_days(std::int64_t days);

// "2026-11-22T10:00:00Z", "2026-11-22T10:00:00.250Z", "2026-11-22T10:00Z" (also with
// "+00:00" instead of "Z", or no zone: UTC), or a date alone, "2026-11-22" (its
// midnight), in UTC microseconds. nullopt: not such an instant.
std::optional<std::int64_t> parse_instant(std::string_view text);
// Whether text is a date alone (no time of day).
bool is_date_only(std::string_view text);

// "2026-11-22T10:00:00.000Z" (fraction_digits 3, portalctl) or
// "2026-11-22T10:00:00.000000Z" (6, the HTTP API); always UTC with Z.
std::string format_instant(std::int64_t micros, int fraction_digits = 3);

}  // namespace portal::text
