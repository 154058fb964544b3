// Errors as values for the event store.
//
// The codes carry the meanings of absl::StatusCode so that a caller knows what to
// do with each:
//   kWrongExpectedVersion  (absl kAborted)   re-read the streams and decide again
//   kInvalidArgument                          fix the request; retrying cannot help
//   kFailedPrecondition                       the store must change first
//   kNotFound                                 the thing asked for does not exist
//   kCorruption (absl kDataLoss)              a stored record failed verification
//   kIOError                                  the disk refused (full, read-only, ...)
//   kUnavailable                              the store is closed or closing
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace portal::eventstore {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kWrongExpectedVersion,
  kFailedPrecondition,
  kCorruption,
  kIOError,
  kUnavailable,
};

std::string_view to_string(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;

  static Status ok_status() { return {}; }
  static Status invalid_argument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status not_found(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status wrong_expected_version(std::string msg) {
    return {StatusCode::kWrongExpectedVersion, std::move(msg)};
  }
  static Status failed_precondition(std::string msg) {
    return {StatusCode::kFailedPrecondition, std::move(msg)};
  }
  static Status corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status io_error(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True when repeating the operation (after re-reading, for a wrong expected
  // version) may succeed.
  bool retryable() const {
    return code_ == StatusCode::kWrongExpectedVersion || code_ == StatusCode::kUnavailable;
  }

  // "WrongExpectedVersion: stream provider-1 expected version 3, actual 4"
  std::string to_string() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Status::invalid_argument("Result built from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }

  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace portal::eventstore
