// End-to-end harness for portald (issue 6, label e2e): starts the real binary on a
// free port with a temporary data directory and a random HS256 secret, mints
// tokens with libjwt, and talks HTTP/1.1 to it over a plain POSIX socket.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace portal::e2e {

namespace json = boost::json;

// An encrypted key as clients send it (type 2: iv|ct|mac), opaque to the server.
inline constexpr const char* kKey = "2.AAAA|BBBB|CCCC";

std::string random_uuid();
std::string random_hex(std::size_t bytes);
std::string base64url(std::string_view data);

// --- tokens ---------------------------------------------------------------------

struct Claims {
  std::string sub;
  bool staff = false;
  std::string email, name;
  std::int64_t iat = 0, nbf = 0, exp = 0;  // 0: now, now, now + 1 h
  std::string iss = "portal-dev";
  std::string aud = "portal";
};

// Signed with libjwt: alg "HS256" with a shared secret, "RS256" or "ES256" with a PEM
// private key.
std::string mint(const Claims& claims, const std::string& alg, const std::string& key);
std::string mint_hs256(const Claims& claims, const std::string& secret);
// {"alg":"none"} . claims . (empty signature), built by hand.
std::string mint_alg_none(const Claims& claims);
std::string claims_json(const Claims& claims);

// An asymmetric token key: portald verifies with public_pem, tokens are signed alg
// ("RS256" or "ES256") with private_pem.
struct KeyPair {
  std::string alg;
  std::string private_pem, public_pem;
};

// A person with an account (registered just in time on their first request).
struct User {
  std::string id;
  std::string email;
  std::string name;
  bool staff = false;
  Claims claims() const;
};

// --- HTTP -----------------------------------------------------------------------

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string transport_error;  // non-empty when no response could be read

  std::string header(const std::string& name) const;
  // The body as JSON; a null value if it is not JSON (the test then fails on use).
  json::value json() const;
  // X-Portal-Position as a number (0 if absent).
  std::uint64_t position() const;
  // "STATUS body" for failure messages.
  std::string describe() const;
};

// One request over its own connection (Connection: close).
HttpResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                          const std::string& token = {}, const std::optional<std::string>& body = std::nullopt,
                          const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

// Raw bytes out, the whole reply in (for malformed requests and keep-alive checks).
std::string raw_exchange(std::uint16_t port, const std::string& bytes);

// --- the server -----------------------------------------------------------------

class PortaldProcess {
 public:
  // Starts portald and waits for its listening line. false with *error on failure.
  // Tokens are HS256 with a random secret, or verified with public_key_pem if given.
  // extra_flags come last on portald's command line.
  bool start(std::string* error, const std::string& public_key_pem = {},
             const std::vector<std::string>& extra_flags = {});
  // SIGTERM, then waits; returns the exit status (or -1 for a signal death).
  int stop();
  bool running() const { return pid_ > 0; }

  std::uint16_t port() const { return port_; }
  const std::string& secret() const { return secret_; }
  const std::string& dir() const { return dir_; }
  std::string log_tail(std::size_t bytes = 4000) const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string secret_;
  std::string dir_;
};

// The fixture: one portald per test suite; helpers for the API.
class PortaldTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { start_server(); }
  static void TearDownTestSuite();
  // Starts the suite's portald; with a key, the fixture's tokens are signed with it.
  static void start_server(const std::optional<KeyPair>& key = std::nullopt,
                           const std::vector<std::string>& extra_flags = {});
  void SetUp() override;
  void TearDown() override;

  static PortaldProcess* server();

  // A new person with unique id and email ("label-xxxx@e2e.example").
  static User person(const std::string& label, bool staff = false);
  static std::string token(const User& u);

  HttpResponse call(const std::string& method, const std::string& target, const User& as,
                    const std::optional<json::value>& body = std::nullopt,
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpResponse get(const std::string& target, const User& as) { return call("GET", target, as); }
  HttpResponse post(const std::string& target, const User& as, const json::value& body) {
    return call("POST", target, as, body);
  }
  HttpResponse put(const std::string& target, const User& as, const json::value& body) {
    return call("PUT", target, as, body);
  }
  HttpResponse del(const std::string& target, const User& as) { return call("DELETE", target, as); }
  HttpResponse raw(const std::string& method, const std::string& target, const std::string& token,
                   const std::optional<std::string>& body = std::nullopt,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

  // A 200 with a JSON object or list body, else a test failure (thrown, so that the
  // test stops instead of cascading).
  json::value ok(const HttpResponse& r, const std::string& what);

  // Registers the user just in time (GET /ciphers) and checks it answered 200.
  void enroll(const User& u);

  // A provider (MSP) set up by its owner; the owner is its confirmed admin.
  struct Provider {
    std::string id;
    User owner;
    std::string owner_puid;
    std::uint64_t position = 0;
  };
  Provider make_provider(const std::string& label);

  // Invites a provider user, lets them accept and confirms them; returns the
  // provider user id.
  std::string add_provider_user(const Provider& p, const User& admin, const User& who, int type);

  struct Client {
    std::string poid;  // provider-organization link id
    std::string org;
    std::string owner_ouid;
    std::string owner_token;  // the owner's invitation token
    User owner;
    std::uint64_t position = 0;
  };
  // A new client organization of p, created by admin; owner_confirmed: its owner
  // accepts and is confirmed.
  Client make_client(const Provider& p, const User& admin, const std::string& label, bool owner_confirmed,
                     int seats = 10);

  // Every page of a list route's events, following continuation tokens.
  std::vector<json::object> all_events(const std::string& route, const User& as, std::uint64_t min_position,
                                       std::vector<std::size_t>* page_sizes = nullptr);

  static User staff_;
};

// Error-envelope checks.
void expect_error(const HttpResponse& r, int status, const std::string& message = {});
// validationErrors names `field` (exact key), and some message mentions `needle`.
void expect_validation(const HttpResponse& r, const std::string& field, const std::string& needle = {});

std::string str(const json::value& v, const char* key);
std::int64_t num(const json::value& v, const char* key);

}  // namespace portal::e2e
