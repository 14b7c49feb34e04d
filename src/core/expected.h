#pragma once
// A value or an error with a kind and a user-facing message (C++17 has no std::expected).
#include <string>
#include <utility>
#include <variant>

namespace mcp_auth {

enum class ErrorKind {
    Invalid,           // bad input or a hostile/malformed document
    Network,           // a server could not be reached or answered badly
    Auth,              // the authorization server refused (invalid_grant, access_denied, ...)
    LoginRequired,     // a person has to log in
    StoreUnavailable,  // the keychain is absent, locked or refused
    Timeout,
};

struct Error {
    ErrorKind kind = ErrorKind::Invalid;
    std::string message;  // what happened and what to do next; never a secret
    std::string code;     // an OAuth error code, when there is one
};

template <class T>
class Expected {
public:
    Expected(T value) : v_(std::move(value)) {}
    Expected(Error error) : v_(std::move(error)) {}
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Expected<Ok>;

inline Error make_error(ErrorKind kind, std::string message, std::string code = {}) {
    return Error{kind, std::move(message), std::move(code)};
}

}  // namespace mcp_auth
