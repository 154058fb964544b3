#include "format.h"

#include <algorithm>
#include <charconv>

namespace portal::cli {

namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month, day;
};

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

void pad(std::string& out, unsigned v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*u", width, v);
  out += buf;
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
  if (zone != "Z" && zone != "z" && zone != "+00:00" && zone != "+0000") return std::nullopt;
  return micros;
}

std::string format_instant(std::int64_t micros) {
  std::int64_t days = micros / kMicrosPerDay;
  std::int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  const Civil c = civil_from_days(days);
  const auto ms = static_cast<unsigned>(rest / 1000);
  std::string out;
  out.reserve(24);
  char year[16];
  std::snprintf(year, sizeof year, "%04lld", static_cast<long long>(c.year));
  out += year;
  out += '-';
  pad(out, c.month, 2);
  out += '-';
  pad(out, c.day, 2);
  out += 'T';
  pad(out, ms / 3'600'000, 2);
  out += ':';
  pad(out, ms / 60'000 % 60, 2);
  out += ':';
  pad(out, ms / 1000 % 60, 2);
  out += '.';
  pad(out, ms % 1000, 3);
  out += 'Z';
  return out;
}

std::string group_digits(std::uint64_t n) {
  std::string plain = std::to_string(n), out;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    if (i > 0 && (plain.size() - i) % 3 == 0) out += ',';
    out += plain[i];
  }
  return out;
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------

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
  out_ += json_quote(k);
  out_ += pretty_ ? ": " : ":";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
  before_value();
  out_ += json_quote(s);
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

// ---------------------------------------------------------------------------

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::optional<Format> parse_format(std::string_view text) {
  if (text == "table") return Format::kTable;
  if (text == "csv") return Format::kCsv;
  if (text == "jsonl") return Format::kJsonl;
  return std::nullopt;
}

RowPrinter::RowPrinter(std::FILE* out, Format format, std::vector<Column> columns)
    : out_(out), format_(format), columns_(std::move(columns)) {
  std::vector<std::string> all;
  for (const auto& c : columns_) all.push_back(c.key);
  set_table_columns(all);
}

void RowPrinter::set_table_columns(const std::vector<std::string>& keys) {
  table_index_.clear();
  widths_.clear();
  for (const auto& k : keys) {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].key != k) continue;
      table_index_.push_back(i);
      widths_.push_back(std::max(columns_[i].width, columns_[i].title.size()));
    }
  }
}

namespace {
std::string text_of(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  return {};
}
}  // namespace

void RowPrinter::print_table_rows(const std::vector<std::vector<std::string>>& rows) {
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line.append(widths_[c] > r[c].size() ? widths_[c] - r[c].size() + 2 : 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    line += '\n';
    std::fputs(line.c_str(), out_);
  }
}

void RowPrinter::row(const std::vector<Value>& values) {
  ++rows_;
  switch (format_) {
    case Format::kCsv: {
      if (!heading_done_) finish();  // the header row
      std::string line;
      for (std::size_t i = 0; i < columns_.size(); ++i) {
        if (i > 0) line += ',';
        line += csv_field(i < values.size() ? text_of(values[i]) : std::string());
      }
      line += '\n';
      std::fputs(line.c_str(), out_);
      return;
    }
    case Format::kJsonl: {
      JsonWriter j;
      j.begin_object();
      for (std::size_t i = 0; i < columns_.size(); ++i) {
        j.key(columns_[i].key);
        const Value v = i < values.size() ? values[i] : Value{};
        if (const auto* s = std::get_if<std::string>(&v)) {
          j.string(*s);
        } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
          j.number(*n);
        } else {
          j.null();
        }
      }
      j.end_object();
      std::fputs(j.str().c_str(), out_);
      std::fputc('\n', out_);
      return;
    }
    case Format::kTable: {
      std::vector<std::string> cells;
      for (const std::size_t i : table_index_) cells.push_back(i < values.size() ? text_of(values[i]) : "");
      held_.push_back(std::move(cells));
      return;
    }
  }
}

void RowPrinter::flush() {
  if (format_ == Format::kTable && !held_.empty()) {
    for (const auto& r : held_)
      for (std::size_t c = 0; c < r.size(); ++c) widths_[c] = std::max(widths_[c], r[c].size());
    if (!heading_done_) {
      std::vector<std::string> heading;
      for (const std::size_t i : table_index_) heading.push_back(columns_[i].title);
      print_table_rows({heading});
      heading_done_ = true;
    }
    print_table_rows(held_);
    held_.clear();
  }
  std::fflush(out_);
}

void RowPrinter::finish() {
  if (format_ == Format::kCsv && !heading_done_) {
    std::string line;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) line += ',';
      line += csv_field(columns_[i].key);
    }
    line += '\n';
    std::fputs(line.c_str(), out_);
    heading_done_ = true;
  }
  flush();
}

}  // namespace portal::cli
