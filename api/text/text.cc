#include "text/text.h"

#include <algorithm>
#include <chrono>

namespace portal::text {

namespace {

bool leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Exactly n digits at text[at...].
std::optional<unsigned> digits(std::string_view text, std::size_t at, std::size_t n) {
  if (text.size() < at + n) return std::nullopt;
  unsigned v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return v;
}

}  // namespace

bool is_date_only(std::string_view text) {
  return text.size() == 10;
}

std::optional<std::int64_t> parse_instant(std::string_view text) {
  // YYYY-MM-DD
  const auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
  std::int64_t micros = days_from_civil(*year, *month, *day) * kMicrosPerDay;
  if (text.size() == 10) return micros;
  // THH:MM[:SS[.fff...]] then Z or +00:00
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return std::nullopt;
  const auto hour = digits(text, 11, 2), minute = digits(text, 14, 2);
  if (!hour || !minute || text.size() < 16 || text[13] != ':' || *hour > 23 || *minute > 59)
    return std::nullopt;
  micros += (static_cast<std::int64_t>(*hour) * 3600 + *minute * 60) * 1'000'000;
  std::size_t at = 16;
  if (at < text.size() && text[at] == ':') {
    const auto second = digits(text, at + 1, 2);
    if (!second || *second > 59) return std::nullopt;
    micros += static_cast<std::int64_t>(*second) * 1'000'000;
    at += 3;
    if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
      ++at;
      std::int64_t fraction = 0, scale = 100'000;
      const std::size_t first = at;
      for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at) {
        fraction += (text[at] - '0') * scale;
        scale /= 10;
      }
      if (at == first) return std::nullopt;
      micros += fraction;
    }
  }
  const std::string_view zone = text.substr(at);
  if (!zone.empty() && zone != "Z" && zone != "z" && zone != "+00:00" && zone != "+0000") return std::nullopt;
  return micros;
}


void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the current run of characters that need no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(s, run, s.size() - run);
  out += '"';
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_string(out, s);
  return out;
}

void JsonWriter::newline() {
  if (!pretty_) return;
  out_ += '\n';
  out_.append(2 * has_member_.size(), ' ');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_member_.empty()) {
    if (has_member_.back()) out_ += ',';
    has_member_.back() = true;
    newline();
  }
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  const bool any = has_member_.back();
  has_member_.pop_back();
  if (any) newline();
  out_ += bracket;
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  return close('}');
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  return close(']');
}

JsonWriter& JsonWriter::key(std::string_view k) {
  before_value();
  append_json_string(out_, k);
  out_ += pretty_ ? ": " : ":";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
  before_value();
  append_json_string(out_, s);
  return *this;
}

JsonWriter& JsonWriter::number(std::int64_t n) {
  before_value();
  out_ += std::to_string(n);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

std::string format_instant(std::int64_t micros, int fraction_digits) {
  fraction_digits = std::clamp(fraction_digits, 0, 6);
  std::int64_t days = micros / kMicrosPerDay;
  std::int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  const Civil c = civil_from_days(days);
  const auto secs = static_cast<unsigned>(rest / 1'000'000);
  std::int64_t fraction = rest % 1'000'000;
  for (int i = fraction_digits; i < 6; ++i) fraction /= 10;
  char buf[40];
  std::size_t n = 0;
  auto put = [&](std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) buf[n + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
    n += static_cast<std::size_t>(width);
  };
  if (c.year < 0 || c.year > 9999) {
    std::string year = std::to_string(c.year);  // outside ISO 8601's four digits: as is
    n = year.copy(buf, 20);
  } else {
    put(c.year, 4);
  }
  buf[n++] = '-';
  put(c.month, 2);
  buf[n++] = '-';
  put(c.day, 2);
  buf[n++] = 'T';
  put(secs / 3600, 2);
  buf[n++] = ':';
  put(secs / 60 % 60, 2);
  buf[n++] = ':';
  put(secs % 60, 2);
  if (fraction_digits > 0) {
    buf[n++] = '.';
    put(fraction, fraction_digits);
  }
  buf[n++] = 'Z';
  return std::string(buf, n);
}

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace portal::text
