// Typed refusals of the domain. The kinds mean what Abseil's codes mean, so a
// caller (the HTTP adapter, a CLI) knows what to do with each.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace portal::domain {

enum class ErrorKind {
  kValidation,          // absl kInvalidArgument: the input is malformed; fix it
  kNotFound,            // absl kNotFound: unknown, or not visible to this actor
  kPermissionDenied,    // absl kPermissionDenied: visible, but not allowed
  kFailedPrecondition,  // absl kFailedPrecondition: a business rule refuses it now
  kAborted,             // absl kAborted: a concurrent change won; re-read and retry
  // Not refusals of the domain but of the machinery under it (set by the engine):
  kUnavailable,  // absl kUnavailable: the store is closed or the disk refused; retry later
  kDataLoss,     // absl kDataLoss: a stored record failed verification
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind;
  std::string message;  // human, Bitwarden's wording where DESIGN.md quotes it
  std::string field;    // for kValidation: the offending input field, else empty

  static Error validation(std::string field, std::string message) {
    return {ErrorKind::kValidation, std::move(message), std::move(field)};
  }
  static Error not_found(std::string message = "Resource not found.") {
    return {ErrorKind::kNotFound, std::move(message), {}};
  }
  static Error permission_denied(std::string message = "You do not have permission to do this.") {
    return {ErrorKind::kPermissionDenied, std::move(message), {}};
  }
  static Error failed_precondition(std::string message) {
    return {ErrorKind::kFailedPrecondition, std::move(message), {}};
  }
  static Error aborted(std::string message) { return {ErrorKind::kAborted, std::move(message), {}}; }
  static Error unavailable(std::string message) { return {ErrorKind::kUnavailable, std::move(message), {}}; }
  static Error data_loss(std::string message) { return {ErrorKind::kDataLoss, std::move(message), {}}; }

  friend bool operator==(const Error&, const Error&) = default;
};

// A value or the Error that explains why there is none.
template <class T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace portal::domain
