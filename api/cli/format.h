// portalctl's text formats: grouped numbers, CSV fields and the rows every listing
// command prints as a table, CSV or JSON lines; ISO 8601 instants and the JSON
// writer are the ones portald uses (text/text.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "text/text.h"

namespace portal::cli {

using text::is_date_only;
using text::parse_instant;

// "2026-11-22T10:00:00.000Z": milliseconds, always with Z.
using text::format_instant;
using text::kMicrosPerDay;

// 1234567 -> "1,234,567".
std::string group_digits(std::uint64_t n);

using text::json_quote;
using text::JsonWriter;

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
