// Error and Result: the return type of every operation that can fail for an
// expected reason (a missing file, a bad model, a bad request).
// Result<T> is std::expected<T, Error> where the standard library has it
// (C++23); on C++20 toolchains it is a minimal equivalent with the same API
// subset used in Vigil: has_value/operator bool, value(), error(), *, ->.
#pragma once

#include <string>
#include <utility>
#include <variant>

#if __has_include(<expected>)
#include <expected>
#endif

namespace vigil {

enum class ErrorCode {
  kInvalidArgument,  // the caller's input is malformed (bad flag, bad config value)
  kNotFound,         // a file or resource does not exist
  kConflict,         // the request does not fit the resource's state (exists already, already finished)
  kBadInput,         // the input exists but cannot be used (not an image, not a model)
  kUnsupported,      // a valid input that Vigil cannot handle (unknown output layout)
  kRuntime,          // a failure inside a library at run time
  kCancelled,        // stopped on request (a stop flag, a cancelled job) before it finished
};

struct Error {
  ErrorCode code = ErrorCode::kRuntime;
  std::string message;  // complete sentence naming the input and the problem
};

#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L
template <class T>
using Result = std::expected<T, Error>;
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}
inline std::unexpected<Error> fail(Error e) { return std::unexpected<Error>(std::move(e)); }
#else
struct Unexpected {
  Error error;
};
inline Unexpected fail(ErrorCode code, std::string message) {
  return Unexpected{Error{code, std::move(message)}};
}
inline Unexpected fail(Error e) { return Unexpected{std::move(e)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit like std::expected
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT
  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : err_(std::move(u.error)), ok_(false) {}  // NOLINT
  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};
#endif

}  // namespace vigil
