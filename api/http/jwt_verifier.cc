#include "http/jwt_verifier.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cmath>

#include <boost/json.hpp>

namespace portal::http {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::optional<boost::json::object> parse_object(std::string_view part) {
  auto bytes = base64url_decode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*bytes, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

// A NumericDate (RFC 7519): a JSON number of seconds. nullopt if absent; *bad set
// if present but not a finite number.
std::optional<double> numeric_date(const boost::json::object& claims, std::string_view name, bool* bad) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  const auto& v = it->value();
  double d = 0;
  if (v.is_int64()) {
    d = static_cast<double>(v.as_int64());
  } else if (v.is_uint64()) {
    d = static_cast<double>(v.as_uint64());
  } else if (v.is_double()) {
    d = v.as_double();
  } else {
    *bad = true;
    return std::nullopt;
  }
  if (!std::isfinite(d)) {
    *bad = true;
    return std::nullopt;
  }
  return d;
}

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};

}  // namespace

std::string base64url_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(data[k]); };
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (data.size() - i == 1) {
    unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (data.size() - i == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = b64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::unique_ptr<JwtVerifier> JwtVerifier::create(JwtOptions options, std::string* error) {
  auto fail = [&](std::string message) -> std::unique_ptr<JwtVerifier> {
    if (error) *error = std::move(message);
    return nullptr;
  };
  if (!options.hs256_secret.empty() && !options.public_key_pem.empty()) {
    return fail("configure either an HS256 secret or a public key, not both");
  }
  if (options.leeway_seconds < 0 || options.leeway_seconds > 60) {
    return fail("the JWT clock leeway must be between 0 and 60 seconds");
  }
  std::unique_ptr<JwtVerifier> v(new JwtVerifier());
  if (!options.hs256_secret.empty()) {
    // RFC 7518 3.2: an HS256 key must have at least as many bits as the hash.
    if (options.hs256_secret.size() < 32) {
      return fail("the HS256 secret is shorter than 32 bytes; generate one with `openssl rand -hex 32`");
    }
    v->algorithm_ = "HS256";
    v->key_ = options.hs256_secret;
  } else if (!options.public_key_pem.empty()) {
    BIO* bio =
        BIO_new_mem_buf(options.public_key_pem.data(), static_cast<int>(options.public_key_pem.size()));
    EVP_PKEY* pkey = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (pkey == nullptr) {
      return fail("the JWT public key is not a PEM public key (\"-----BEGIN PUBLIC KEY-----\")");
    }
    int type = EVP_PKEY_base_id(pkey);
    int bits = EVP_PKEY_bits(pkey);
    EVP_PKEY_free(pkey);
    if (type == EVP_PKEY_RSA) {
      if (bits < 2048) return fail("the RSA public key has fewer than 2048 bits");
      v->algorithm_ = "RS256";
    } else if (type == EVP_PKEY_EC && bits == 256) {
      v->algorithm_ = "ES256";
    } else {
      return fail("the JWT public key must be RSA (RS256) or EC P-256 (ES256)");
    }
    v->key_ = options.public_key_pem;
  } else {
    return fail("no JWT key configured");
  }
  if (!options.now) {
    options.now = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  v->options_ = std::move(options);
  return v;
}

std::optional<JwtVerifier::Verified> JwtVerifier::verify_signed(std::string_view token, std::string* reason) const {
  auto refuse = [&](std::string why) -> std::optional<Verified> {
    if (reason) *reason = std::move(why);
    return std::nullopt;
  };
  // Bound the work a hostile header can cause before any parsing.
  if (token.size() > 16 * 1024) return refuse("token too long");
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return refuse("not a compact JWS (three dot-separated parts)");
  }
  std::string_view head_part = token.substr(0, dot1);
  std::string_view claims_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view sig_part = token.substr(dot2 + 1);
  auto header = parse_object(head_part);
  if (!header) return refuse("header is not base64url JSON object");
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->value().is_string()) return refuse("header has no alg");
  std::string_view alg_name = alg->value().as_string();
  if (alg_name != algorithm_) {
    return refuse("alg " + std::string(alg_name) + " refused; only " + algorithm_ + " is accepted");
  }
  if (header->contains("crit")) return refuse("crit header extensions are not supported");
  if (sig_part.empty()) return refuse("no signature");

  jwt_t* raw = nullptr;
  std::string text(token);
  int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key_.data()),
                      static_cast<int>(key_.size()));
  std::unique_ptr<jwt_t, JwtDeleter> jwt(raw);
  if (rc != 0 || !jwt) return refuse("bad signature or malformed token");
  // Belt and braces: libjwt must have verified with the pinned algorithm.
  if (std::string_view(jwt_alg_str(jwt_get_alg(jwt.get()))) != algorithm_)
    return refuse("algorithm mismatch");

  // The claims part is exactly what the signature covers; read it with one JSON
  // parser so that types are checked the same way everywhere.
  auto claims = parse_object(claims_part);
  if (!claims) return refuse("claims are not a JSON object");
  Verified out;
  bool bad = false;
  auto exp = numeric_date(*claims, "exp", &bad);
  if (bad) return refuse("exp is not a number");
  if (!exp) return refuse("no exp claim; tokens must expire");
  out.exp = *exp;
  auto nbf = numeric_date(*claims, "nbf", &bad);
  if (bad) return refuse("nbf is not a number");
  out.nbf = nbf;

  if (!options_.issuer.empty()) {
    auto iss = claims->find("iss");
    if (iss == claims->end() || !iss->value().is_string() || iss->value().as_string() != options_.issuer) {
      return refuse("wrong or missing iss");
    }
  }
  if (!options_.audience.empty()) {
    auto aud = claims->find("aud");
    bool ok = false;
    if (aud != claims->end()) {
      if (aud->value().is_string()) {
        ok = aud->value().as_string() == options_.audience;
      } else if (aud->value().is_array()) {
        for (const auto& a : aud->value().as_array())
          ok = ok || (a.is_string() && a.as_string() == options_.audience);
      }
    }
    if (!ok) return refuse("wrong or missing aud");
  }

  AuthContext& ctx = out.context;
  auto sub = claims->find("sub");
  if (sub == claims->end() || !sub->value().is_string()) return refuse("no sub claim");
  auto user = domain::Uuid::parse(sub->value().as_string());
  if (!user || user->is_nil()) return refuse("sub is not a UUID");
  ctx.user = *user;
  if (auto staff = claims->find("staff"); staff != claims->end()) {
    if (!staff->value().is_bool()) return refuse("staff claim is not a boolean");
    ctx.staff = staff->value().as_bool();
  }
  if (auto email = claims->find("email"); email != claims->end() && email->value().is_string()) {
    ctx.email = email->value().as_string();
  }
  if (auto name = claims->find("name"); name != claims->end() && name->value().is_string()) {
    ctx.name = name->value().as_string();
  }
  return out;
}

// The time claims are checked on every use, cached or not.
std::optional<AuthContext> JwtVerifier::in_time(const Verified& v, std::string* reason) const {
  const double now = static_cast<double>(options_.now());
  const double leeway = static_cast<double>(options_.leeway_seconds);
  const char* why = nullptr;
  if (now > v.exp + leeway) {
    why = "token expired";
  } else if (v.nbf && now + leeway < *v.nbf) {
    why = "token not yet valid (nbf)";
  }
  if (why != nullptr) {
    if (reason) *reason = why;
    return std::nullopt;
  }
  return v.context;
}

std::optional<AuthContext> JwtVerifier::verify(std::string_view token, std::string* reason) const {
  {
    std::lock_guard lock(cache_->mu);
    if (auto it = cache_->verified.find(token); it != cache_->verified.end()) return in_time(it->second, reason);
  }
  auto verified = verify_signed(token, reason);
  if (!verified) return std::nullopt;
  auto answer = in_time(*verified, reason);
  if (answer) {
    std::lock_guard lock(cache_->mu);
    // Bounded: when full, start again (a miss costs one signature check).
    if (cache_->verified.size() >= kCachedTokens) cache_->verified.clear();
    cache_->verified.emplace(std::string(token), *std::move(verified));
  }
  return answer;
}

Authenticator JwtVerifier::authenticator() const {
  return [this](std::string_view token, std::string* reason) { return verify(token, reason); };
}

}  // namespace portal::http
