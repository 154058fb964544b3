// Route matching and the request pipeline short of the network (see http.h).
#include <algorithm>
#include <cctype>
#include <exception>
#include <stdexcept>

#include <boost/json.hpp>

#include "portal/api/http.h"

namespace portal::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_capture(std::string_view segment) {
  return segment.size() >= 3 && segment.front() == '{' && segment.back() == '}';
}

// "/a/b/" -> {"a","b"}; a single trailing slash is tolerated (ASP.NET does too).
// nullopt for an empty segment in the middle ("//"), which no route has.
std::optional<std::vector<std::string_view>> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return out;
  while (true) {
    auto slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (seg.empty()) return std::nullopt;
    out.push_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

void Router::add(std::string method, std::string pattern, Handler handler, Auth auth) {
  auto segments = split_path(pattern);
  if (!segments)
    throw std::invalid_argument("route pattern must start with '/' and have no empty segment: " + pattern);
  Route route;
  route.segments.assign(segments->begin(), segments->end());
  for (const auto& seg : route.segments) {
    bool has_brace = seg.find_first_of("{}") != std::string::npos;
    if (has_brace && !is_capture(seg)) throw std::invalid_argument("bad capture segment in route " + pattern);
  }
  for (const auto& existing : routes_) {
    if (existing.method == method && existing.segments.size() == route.segments.size()) {
      bool same = true;
      for (std::size_t i = 0; i < route.segments.size() && same; ++i) {
        bool a = is_capture(existing.segments[i]), b = is_capture(route.segments[i]);
        same = (a && b) || (!a && !b && existing.segments[i] == route.segments[i]);
      }
      if (same) throw std::invalid_argument("duplicate route " + method + " " + pattern);
    }
  }
  route.name = method + " " + pattern;
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.handler = std::move(handler);
  route.auth = auth;
  routes_.push_back(std::move(route));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match result;
  auto segments = split_path(path);
  if (!segments) return result;
  // Specificity: per segment, literal (1) beats capture (0), compared left to right.
  std::vector<int> best_rank;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments->size()) continue;
    std::vector<int> rank(route.segments.size());
    bool ok = true;
    for (std::size_t i = 0; i < route.segments.size() && ok; ++i) {
      if (is_capture(route.segments[i])) {
        rank[i] = 0;
      } else {
        rank[i] = 1;
        ok = route.segments[i] == (*segments)[i];
      }
    }
    if (!ok) continue;
    if (route.method != method) {
      if (std::find(result.allowed.begin(), result.allowed.end(), route.method) == result.allowed.end()) {
        result.allowed.push_back(route.method);
      }
      continue;
    }
    if (result.route == nullptr || rank > best_rank) {
      result.route = &route;
      best_rank = std::move(rank);
    }
  }
  if (result.route != nullptr) {
    result.allowed.clear();
    for (std::size_t i = 0; i < result.route->segments.size(); ++i) {
      const auto& seg = result.route->segments[i];
      if (is_capture(seg)) result.params[seg.substr(1, seg.size() - 2)] = std::string((*segments)[i]);
    }
  }
  std::sort(result.allowed.begin(), result.allowed.end());
  return result;
}

Response Router::dispatch(Request& request, const Authenticator& authenticate, std::string* route_name,
                          std::string* failure) const {
  Match m = match(request.method, request.path);
  if (m.route == nullptr) {
    if (route_name) *route_name = "unmatched";
    if (m.allowed.empty()) return error_response(404, "Resource not found.");
    Response r = error_response(405, "Method not allowed.");
    std::string allow;
    for (const auto& method : m.allowed) allow += (allow.empty() ? "" : ", ") + method;
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  if (route_name) *route_name = m.route->name;
  request.params = std::move(m.params);
  if (m.route->auth == Auth::kRequired) {
    std::string header = request.header("authorization");
    std::optional<AuthContext> ctx;
    std::string reason = "no bearer token";
    constexpr std::string_view kScheme = "bearer ";
    if (header.size() > kScheme.size() &&
        iequals(std::string_view(header).substr(0, kScheme.size()), kScheme)) {
      std::string_view token = std::string_view(header).substr(kScheme.size());
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      reason.clear();
      if (authenticate) {
        ctx = authenticate(token, &reason);
      } else {
        reason = "no token verifier configured";
      }
    }
    if (!ctx) {
      if (failure) *failure = "unauthorized: " + reason;
      Response r = error_response(401, "Unauthorized.");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    request.auth = std::move(ctx);
  }
  try {
    return m.route->handler(request);
  } catch (const std::exception& e) {
    if (failure) *failure = std::string("handler threw: ") + e.what();
  } catch (...) {
    if (failure) *failure = "handler threw a non-standard exception";
  }
  return error_response(500, "An unhandled server error has occurred.");
}

Response error_response(int status, std::string message,
                        const std::map<std::string, std::vector<std::string>>& validation) {
  boost::json::object obj;
  obj["object"] = "error";
  obj["message"] = message;
  if (validation.empty()) {
    obj["validationErrors"] = nullptr;
  } else {
    boost::json::object errors;
    for (const auto& [field, messages] : validation) {
      boost::json::array list;
      for (const auto& text : messages) list.emplace_back(text);
      errors[field] = std::move(list);
    }
    obj["validationErrors"] = std::move(errors);
  }
  Response r;
  r.status = status;
  r.body = boost::json::serialize(obj);
  return r;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string key = percent_decode(pair.substr(0, eq), true);
      std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
      // The first occurrence wins, as ASP.NET model binding does for scalars.
      out.emplace(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

}  // namespace portal::http
