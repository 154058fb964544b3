#include "portal/domain/enc_string.h"

#include <string>

namespace portal::domain {

namespace {

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Standard base64 with padding: non-empty, length a multiple of 4, '=' only as
// the last one or two characters.
bool is_base64(std::string_view part) {
  if (part.empty() || part.size() % 4 != 0) return false;
  std::size_t padding = 0;
  while (padding < 2 && part[part.size() - 1 - padding] == '=') ++padding;
  for (std::size_t i = 0; i < part.size() - padding; ++i) {
    if (!is_base64_char(part[i])) return false;
  }
  return true;
}

int parts_for_type(int type) {
  static constexpr int kParts[] = {2, 3, 3, 1, 1, 2, 2, 1};
  return type >= 0 && type < 8 ? kParts[type] : -1;
}

}  // namespace

bool is_valid_enc_string(std::string_view value) {
  std::string_view body = value;
  int expected = -1;
  auto dot = value.find('.');
  if (dot != std::string_view::npos) {
    std::string_view header = value.substr(0, dot);
    if (header.size() != 1 || header[0] < '0' || header[0] > '9') return false;
    expected = parts_for_type(header[0] - '0');
    if (expected < 0) return false;
    body = value.substr(dot + 1);
  }
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    auto bar = body.find('|', start);
    std::string_view part =
        body.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    if (!is_base64(part)) return false;
    ++parts;
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  if (expected < 0) expected = parts == 3 ? 3 : 2;  // no header: the legacy forms
  return parts == expected;
}

std::optional<Error> check_enc_string(std::string_view field, std::string_view label,
                                      std::string_view value) {
  if (is_valid_enc_string(value)) return std::nullopt;
  return Error::validation(std::string(field), std::string(label) + " is not a valid encrypted string.");
}

}  // namespace portal::domain
