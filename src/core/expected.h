#pragma once
// The one error model: a value or an Error with a kind and a user-facing message (C++17
// has no std::expected). Every fallible call returns Expected<T> or Status; exceptions
// are caught at the edges only (ARCHITECTURE.md, "The error model").
//
// [[nodiscard]]: a failure dropped by accident is a compile warning (an error with
// -Werror). Cast to (void) where ignoring one is the decision, and say why.
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
    NotFound,   // there is no such thing (a document every URL answered 404 for, ...)
    Io,         // the operating system refused (a file, a directory, a lock)
    Cancelled,  // the process is shutting down, or the user gave up
};

struct Error {
    ErrorKind kind = ErrorKind::Invalid;
    std::string message;  // what happened and what to do next; never a secret
    std::string code;     // an OAuth error code, when there is one
};

template <class T>
class [[nodiscard]] Expected {
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
    const T& operator*() const { return value(); }
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

// Returns the error of `expr` (an Expected or a Status) from the enclosing function, which
// must return an Expected or a Status too:  MCP_AUTH_TRY(store.put(key, label, secret));
#define MCP_AUTH_TRY(expr)                                                       \
    do {                                                                         \
        if (auto try_result_ = (expr); !try_result_) return try_result_.error(); \
    } while (false)

// Declares `name` as the value of `expr`, or returns its error:
//   MCP_AUTH_TRY_ASSIGN(meta, discovery_.server_metadata(issuer, true));
#define MCP_AUTH_TRY_ASSIGN(name, expr)                 \
    auto name##_result_ = (expr);                       \
    if (!name##_result_) return name##_result_.error(); \
    auto name = std::move(*name##_result_)
