// portalctl's text formats: ISO 8601 UTC instants, grouped numbers, a small JSON
// writer, CSV fields and the rows every listing command prints as a table, CSV or
// JSON lines.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace portal::cli {

// "2026-11-22T10:00:00Z", "2026-11-22T10:00:00.250Z", "2026-11-22T10:00Z" (also with
// "+00:00" instead of "Z"), or a date alone, "2026-11-22" (its midnight), in UTC
// microseconds. nullopt: not such an instant.
std::optional<std::int64_t> parse_instant(std::string_view text);
// Whether text is a date alone (no time of day).
bool is_date_only(std::string_view text);
inline constexpr std::int64_t kMicrosPerDay = 86'400'000'000LL;

// "2026-11-22T10:00:00.000Z": milliseconds, always with Z.
std::string format_instant(std::int64_t micros);

// 1234567 -> "1,234,567".
std::string group_digits(std::uint64_t n);

// A JSON string literal, quotes included.
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
  JsonWriter& field(std::string_view k, std::int64_t n) { return key(k).number(n); }
  JsonWriter& field(std::string_view k, bool b) { return key(k).boolean(b); }

  const std::string& str() const { return out_; }

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

// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string csv_field(std::string_view s);

// One value of a listing row: absent (empty in CSV and tables, null in JSON), text or
// a number.
using Value = std::variant<std::monostate, std::string, std::int64_t>;

struct Column {
  std::string key;    // the CSV header and JSON key (camelCase)
  std::string title;  // the table heading
  std::size_t width;  // the table column's minimum width
};

enum class Format { kTable, kCsv, kJsonl };
std::optional<Format> parse_format(std::string_view text);

// Prints rows of values, one per column: CSV with a header row or one JSON object
// per line as they come, or a table. A table holds its rows until flush() and
// aligns them on the widest value; columns only ever widen, so a long listing
// flushed page by page stays aligned once its first page is out. CSV prints its
// header row also when there are no rows, so that an empty export still names its
// columns; a table without rows prints nothing.
class RowPrinter {
 public:
  RowPrinter(std::FILE* out, Format format, std::vector<Column> columns);
  // Keys of table_columns choose and order the table's columns (all by default).
  void set_table_columns(const std::vector<std::string>& keys);
  void row(const std::vector<Value>& values);
  // Prints the rows a table holds.
  void flush();
  // flush(), and CSV's header row if no row came.
  void finish();
  std::uint64_t rows() const { return rows_; }

 private:
  void print_table_rows(const std::vector<std::vector<std::string>>& rows);

  std::FILE* out_;
  Format format_;
  std::vector<Column> columns_;
  std::vector<std::size_t> table_index_;  // columns shown in a table
  std::vector<std::size_t> widths_;       // of the table's columns
  std::vector<std::vector<std::string>> held_;
  std::uint64_t rows_ = 0;
  bool heading_done_ = false;
};

}  // namespace portal::cli
