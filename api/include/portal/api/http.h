// The HTTP adapter's transport-neutral surface: requests, responses, the router and
// the error envelope. No Beast or Asio here: the routes translation unit includes
// this header, and keeping the network library out of it keeps that TU fast to build
// and the handlers testable without a socket.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portal/domain/ids.h"

namespace portal::http {

// Who is calling, from a verified bearer token.
struct AuthContext {
  domain::UserId user;
  bool staff = false;
  std::string email, name;
};

struct Request {
  std::string method;                         // "GET", "POST", ...
  std::string path;                           // decoded path, no query
  std::map<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> params;  // path parameters from the route pattern
  std::string body;
  std::string remote_address;
  std::optional<AuthContext> auth;  // set on authenticated routes
  // Header fields as received (names lower-cased by the server).
  std::vector<std::pair<std::string, std::string>> headers;

  std::string header(std::string_view name) const;  // case-insensitive, "" if absent
};

struct Response {
  int status = 200;
  std::string body;  // JSON unless content_type says otherwise
  std::string content_type = "application/json; charset=utf-8";
  // Extra header fields (WWW-Authenticate, Allow, Content-Disposition, ...).
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Response(const Request&)>;
enum class Auth { kRequired, kNone };

// Verifies a bearer token (the text after "Bearer "); nullopt when it is not
// acceptable. The reason, if set, goes to the log only: clients always get
// "Unauthorized." so that they learn nothing about the verifier.
using Authenticator = std::function<std::optional<AuthContext>(std::string_view token, std::string* reason)>;

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::string name;  // "GET /providers/{id}": labels metrics and logs
    std::vector<std::string> segments;
    Handler handler;
    Auth auth = Auth::kRequired;
  };

  struct Match {
    const Route* route = nullptr;  // nullptr: no route for this method and path
    std::map<std::string, std::string> params;
    // When route is nullptr: the methods the path has routes for (empty: unknown
    // path, 404; else 405 with an Allow header).
    std::vector<std::string> allowed;
  };

  // Pattern segments "{name}" capture one path segment. Where several patterns
  // match a path, literal segments win over captures, leftmost first, so
  // "/providers/{id}/clients/existing" beats "/providers/{id}/clients/{poid}".
  // Throws std::invalid_argument on a malformed pattern or a duplicate route: a
  // programming error, found at startup.
  void add(std::string method, std::string pattern, Handler handler, Auth auth = Auth::kRequired);

  Match match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

  // The whole request pipeline short of the network: match, authenticate
  // (Auth::kRequired routes), run the handler. Unknown path: 404; known path with
  // another method: 405; missing or bad token: 401 with WWW-Authenticate; a
  // handler that throws: 500 without details (the exception text goes to *failure
  // for the log). *route_name receives the matched route's name, or "unmatched".
  Response dispatch(Request& request, const Authenticator& authenticate, std::string* route_name,
                    std::string* failure = nullptr) const;

 private:
  std::vector<Route> routes_;
};

// The error envelope: {"object":"error","message":...,"validationErrors":{field:[...]}|null}.
Response error_response(int status, std::string message,
                        const std::map<std::string, std::vector<std::string>>& validation = {});

// Helpers for transports and tests.
std::string percent_decode(std::string_view text, bool plus_is_space = false);
std::map<std::string, std::string> parse_query(std::string_view query);
std::string_view reason_phrase(int status);

}  // namespace portal::http
