// Result.h: a value or an error message, the runtime's way of reporting failure.
//
// The runtime's loaders see user files, so failing is ordinary: it is returned
// as a value, never thrown across the API. Messages are written for a person
// and already name the file (and line) they are about.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace mtlrt {

/// A failure: one human-readable message such as "penguins.csv:17: ...".
struct Error {
  std::string message;
};

/// Makes an Error; `return fail("...")` converts to any Result<T>.
inline Error fail(std::string message) { return Error{std::move(message)}; }

/// Either a T or an Error. Check ok() before value(); calling value() on an
/// error (or error() on a value) is a programming bug and aborts.
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : state(std::in_place_index<0>, std::move(value)) {}
  Result(Error err) : state(std::in_place_index<1>, std::move(err)) {}

  bool ok() const { return state.index() == 0; }
  explicit operator bool() const { return ok(); }

  T &value() & { return std::get<0>(checked()); }
  const T &value() const & { return std::get<0>(checked()); }
  T &&value() && { return std::get<0>(std::move(checked())); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  T &operator*() { return value(); }
  const T &operator*() const { return value(); }

  /// The message; only valid when !ok().
  const std::string &error() const {
    if (ok())
      die("Result::error() called on a value");
    return std::get<1>(state).message;
  }
  /// The Error itself, to pass a failure on: `return r.takeError();`.
  Error takeError() {
    if (ok())
      die("Result::takeError() called on a value");
    return std::move(std::get<1>(state));
  }

private:
  std::variant<T, Error> state;

  std::variant<T, Error> &checked() {
    if (!ok())
      die(("Result::value() called on an error: " + std::get<1>(state).message).c_str());
    return state;
  }
  const std::variant<T, Error> &checked() const { return const_cast<Result *>(this)->checked(); }
  [[noreturn]] static void die(const char *what) {
    std::fprintf(stderr, "mtlrt: internal error: %s\n", what);
    std::abort();
  }
};

/// Success without a value, or an Error.
struct Ok {};
using Status = Result<Ok>;

} // namespace mtlrt
