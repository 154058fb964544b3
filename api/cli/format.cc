#include "format.h"

#include <algorithm>
#include <charconv>

namespace portal::cli {

std::string group_digits(std::uint64_t n) {
  std::string plain = std::to_string(n), out;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    if (i > 0 && (plain.size() - i) % 3 == 0) out += ',';
    out += plain[i];
  }
  return out;
}

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
