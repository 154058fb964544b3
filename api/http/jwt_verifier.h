// Bearer-token verification with libjwt (Debian's libjwt 1.10). libjwt checks the
// signature; the algorithm is pinned here before libjwt sees the token, because
// libjwt takes the algorithm from the token's own header: given an RS256 public key
// it would accept an HS256 token whose HMAC key is that public key's PEM text
// (algorithm confusion), and it accepts "alg":"none" when no key is passed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "portal/api/http.h"

namespace portal::http {

struct JwtOptions {
  std::string hs256_secret;           // non-empty: HS256 with this shared secret
  std::string public_key_pem;         // non-empty: RS256 (RSA key) or ES256 (P-256 key)
  std::string issuer;                 // required "iss" (empty: not checked)
  std::string audience;               // required in "aud" (empty: not checked)
  std::int64_t leeway_seconds = 60;   // clock skew allowed on exp and nbf; at most 60
  std::function<std::int64_t()> now;  // Unix seconds; default: the system clock
};

class JwtVerifier {
 public:
  // nullptr with *error set when the options cannot work (no key, both keys, an
  // unreadable or unsupported PEM key, a short secret).
  static std::unique_ptr<JwtVerifier> create(JwtOptions options, std::string* error);

  // The caller, or nullopt with *reason (for the log) when the token is refused.
  // A token whose signature and claims verified is remembered (up to
  // kCachedTokens of them), so that a client sending the same token on every
  // request pays for the signature once; exp and nbf are checked on every use.
  std::optional<AuthContext> verify(std::string_view token, std::string* reason) const;

  static constexpr std::size_t kCachedTokens = 4096;

  const std::string& algorithm() const { return algorithm_; }  // "HS256", "RS256" or "ES256"

  // An Authenticator for Router::dispatch that calls this verifier.
  Authenticator authenticator() const;

 private:
  struct Verified {
    AuthContext context;
    double exp = 0;
    std::optional<double> nbf;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Cache {
    std::mutex mu;
    std::unordered_map<std::string, Verified, StringHash, std::equal_to<>> verified;
  };

  JwtVerifier() : cache_(std::make_unique<Cache>()) {}
  // Signature, algorithm and claims, without the time checks.
  std::optional<Verified> verify_signed(std::string_view token, std::string* reason) const;
  std::optional<AuthContext> in_time(const Verified& v, std::string* reason) const;

  JwtOptions options_;
  std::string algorithm_;
  std::string key_;  // what libjwt verifies with: the secret or the PEM text
  std::unique_ptr<Cache> cache_;
};

// Base64url without padding (RFC 7515); decode accepts padding, nullopt on bad input.
std::string base64url_encode(std::string_view data);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace portal::http
