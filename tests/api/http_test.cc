// portald's HTTP core: route matching, the request pipeline, bearer-token
// verification (including the attacks libjwt alone would let through), and the
// real portald binary over a socket (limits, keep-alive, health, metrics, SIGTERM).
#include <arpa/inet.h>
#include <fcntl.h>
#include <jwt.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/jwt_verifier.h"
#include "portal/api/http.h"

namespace portal::http {
namespace {

using ::testing::HasSubstr;

Response ok_with(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

Request make_request(std::string method, std::string path,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

// ----------------------------------------------------------------- router

TEST(Router, MatchesLiteralsAndCapturesParameters) {
  Router router;
  router.add("GET", "/providers/{id}", [](const Request&) { return ok_with("one"); });
  router.add("GET", "/providers/{id}/users/{puid}", [](const Request&) { return ok_with("user"); });
  auto m = router.match("GET", "/providers/abc/users/def");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->name, "GET /providers/{id}/users/{puid}");
  EXPECT_EQ(m.params.at("id"), "abc");
  EXPECT_EQ(m.params.at("puid"), "def");
  auto trailing = router.match("GET", "/providers/abc/");
  ASSERT_NE(trailing.route, nullptr);
  EXPECT_EQ(trailing.params.at("id"), "abc");
  EXPECT_EQ(router.match("GET", "/providers//users/x").route, nullptr);
}

TEST(Router, LiteralSegmentsBeatCaptures) {
  Router router;
  router.add("POST", "/providers/{id}/clients/{poid}", [](const Request&) { return ok_with("capture"); });
  router.add("POST", "/providers/{id}/clients/existing", [](const Request&) { return ok_with("literal"); });
  auto m = router.match("POST", "/providers/p/clients/existing");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/providers/{id}/clients/existing");
  EXPECT_EQ(router.match("POST", "/providers/p/clients/x").route->pattern, "/providers/{id}/clients/{poid}");
}

TEST(Router, UnknownPathIs404AndKnownPathWithOtherMethodIs405) {
  Router router;
  router.add(
      "GET", "/providers/{id}", [](const Request&) { return ok_with("{}"); }, Auth::kNone);
  router.add(
      "PUT", "/providers/{id}", [](const Request&) { return ok_with("{}"); }, Auth::kNone);
  std::string route;
  Request unknown = make_request("GET", "/nothing/here");
  Response r = router.dispatch(unknown, {}, &route);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"object":"error","message":"Resource not found.","validationErrors":null})");
  EXPECT_EQ(route, "unmatched");
  Request wrong = make_request("DELETE", "/providers/1");
  r = router.dispatch(wrong, {}, &route);
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "GET, PUT");
}

TEST(Router, RejectsDuplicateAndMalformedPatterns) {
  Router router;
  router.add("GET", "/a/{x}", [](const Request&) { return Response{}; });
  EXPECT_THROW(router.add("GET", "/a/{y}", [](const Request&) { return Response{}; }), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "a", [](const Request&) { return Response{}; }), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a{b", [](const Request&) { return Response{}; }), std::invalid_argument);
}

TEST(Router, AuthRequiredRoutesRefuseWithoutTokenAndPassTheCaller) {
  Router router;
  router.add("GET", "/me", [](const Request& req) { return ok_with(req.auth->user.to_string()); });
  const auto user = *domain::Uuid::parse("11111111-2222-3333-4444-555555555555");
  Authenticator auth = [&](std::string_view token, std::string* reason) -> std::optional<AuthContext> {
    if (token == "good") {
      AuthContext ctx;
      ctx.user = user;
      return ctx;
    }
    *reason = "bad";
    return std::nullopt;
  };
  std::string route, failure;
  Request none = make_request("GET", "/me");
  Response r = router.dispatch(none, auth, &route, &failure);
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.body, HasSubstr(R"("message":"Unauthorized.")"));
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>("WWW-Authenticate", "Bearer")));
  Request bad = make_request("GET", "/me", {{"authorization", "Bearer nope"}});
  EXPECT_EQ(router.dispatch(bad, auth, &route, &failure).status, 401);
  Request good = make_request("GET", "/me", {{"authorization", "bearer good"}});
  r = router.dispatch(good, auth, &route, &failure);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, user.to_string());
  EXPECT_EQ(route, "GET /me");
}

TEST(Router, HandlerExceptionsBecomeA500WithoutDetails) {
  Router router;
  router.add(
      "GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("secret detail"); },
      Auth::kNone);
  std::string route, failure;
  Request req = make_request("GET", "/boom");
  Response r = router.dispatch(req, {}, &route, &failure);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(
      r.body,
      R"({"object":"error","message":"An unhandled server error has occurred.","validationErrors":null})");
  EXPECT_THAT(failure, HasSubstr("secret detail"));
}

TEST(Http, ErrorEnvelopeWithValidationErrors) {
  Response r =
      error_response(400, "The model state is invalid.", {{"Name", {"The Name field is required."}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"object":"error","message":"The model state is invalid.",)"
                    R"("validationErrors":{"Name":["The Name field is required."]}})");
}

TEST(Http, QueryAndHeaderHelpers) {
  auto q = parse_query("start=2024-01-01T00%3A00%3A00Z&x=a+b&x=second&flag");
  EXPECT_EQ(q.at("start"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(q.at("x"), "a b");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(percent_decode("/a%20b/%zz"), "/a b/%zz");
  Request req = make_request("GET", "/", {{"content-type", "application/json"}});
  EXPECT_EQ(req.header("Content-Type"), "application/json");
  EXPECT_EQ(req.header("X-Missing"), "");
}

// ----------------------------------------------------------------- JWT

constexpr std::int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
const std::string kUser = "6f1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b";

std::string claims_json(std::int64_t exp = kNow + 3600, std::string extra = "",
                        std::string iss = "portal-dev", std::string aud = "\"portal\"",
                        std::string sub = kUser) {
  return R"({"sub":")" + sub + R"(","iss":")" + iss + R"(","aud":)" + aud + R"(,"exp":)" +
         std::to_string(exp) + R"(,"iat":)" + std::to_string(kNow) +
         R"(,"staff":true,"email":"a@example.com","name":"Ann")" + extra + "}";
}

// Signs with libjwt, the way portalctl mints development tokens.
std::string sign(jwt_alg_t alg, const std::string& key, const std::string& claims) {
  jwt_t* raw = nullptr;
  EXPECT_EQ(jwt_new(&raw), 0);
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, &jwt_free);
  EXPECT_EQ(jwt_add_grants_json(jwt.get(), claims.c_str()), 0);
  EXPECT_EQ(jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  char* out = jwt_encode_str(jwt.get());
  EXPECT_NE(out, nullptr);
  std::string token = out ? out : "";
  free(out);  // NOLINT: libjwt 1.10 allocates with malloc
  return token;
}

// An HS256 token built by hand, with any HMAC key (for algorithm confusion).
std::string hs256_by_hand(const std::string& key, const std::string& claims) {
  std::string signing_input =
      base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_len);
  return signing_input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), mac_len));
}

JwtOptions options(std::string secret, std::string public_pem) {
  JwtOptions o;
  o.hs256_secret = std::move(secret);
  o.public_key_pem = std::move(public_pem);
  o.issuer = "portal-dev";
  o.audience = "portal";
  o.now = [] { return kNow; };
  return o;
}

std::unique_ptr<JwtVerifier> hs256_verifier() {
  std::string error;
  auto v = JwtVerifier::create(options(kSecret, ""), &error);
  EXPECT_NE(v, nullptr) << error;
  return v;
}

struct KeyPair {
  std::string private_pem, public_pem;
};

KeyPair generate(bool rsa) {
  EVP_PKEY* key = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  if (key == nullptr) throw std::runtime_error("key generation failed");
  auto pem = [&](bool priv) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (priv) {
      PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_bio_PUBKEY(bio, key);
    }
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
  };
  KeyPair kp{pem(true), pem(false)};
  EVP_PKEY_free(key);
  return kp;
}

std::unique_ptr<JwtVerifier> pem_verifier(const std::string& public_pem) {
  std::string error;
  auto v = JwtVerifier::create(options("", public_pem), &error);
  EXPECT_NE(v, nullptr) << error;
  return v;
}

TEST(Jwt, AcceptsAValidHs256Token) {
  auto v = hs256_verifier();
  std::string reason;
  auto ctx = v->verify(sign(JWT_ALG_HS256, kSecret, claims_json()), &reason);
  ASSERT_TRUE(ctx) << reason;
  EXPECT_EQ(ctx->user.to_string(), kUser);
  EXPECT_TRUE(ctx->staff);
  EXPECT_EQ(ctx->email, "a@example.com");
  EXPECT_EQ(ctx->name, "Ann");
  // aud may be an array containing ours.
  EXPECT_TRUE(v->verify(
      sign(JWT_ALG_HS256, kSecret, claims_json(kNow + 60, "", "portal-dev", R"(["x","portal"])")), &reason))
      << reason;
}

TEST(Jwt, RefusesExpiredAndNotYetValidTokensBeyondTheLeeway) {
  auto v = hs256_verifier();
  std::string reason;
  EXPECT_FALSE(v->verify(sign(JWT_ALG_HS256, kSecret, claims_json(kNow - 3600)), &reason));
  EXPECT_THAT(reason, HasSubstr("expired"));
  EXPECT_TRUE(v->verify(sign(JWT_ALG_HS256, kSecret, claims_json(kNow - 30)), &reason)) << "within leeway";
  EXPECT_FALSE(v->verify(
      sign(JWT_ALG_HS256, kSecret, claims_json(kNow + 3600, R"(,"nbf":)" + std::to_string(kNow + 600))),
      &reason));
  EXPECT_THAT(reason, HasSubstr("nbf"));
  EXPECT_FALSE(v->verify(
      sign(JWT_ALG_HS256, kSecret, R"({"sub":")" + kUser + R"(","iss":"portal-dev","aud":"portal"})"),
      &reason));
  EXPECT_THAT(reason, HasSubstr("exp"));
}

// A verified token is remembered, but its exp and nbf are checked on every use.
TEST(Jwt, ARememberedTokenStillExpiresAndStillWaitsForNbf) {
  std::int64_t now = kNow;
  JwtOptions o = options(kSecret, "");
  o.now = [&now] { return now; };
  std::string error, reason;
  auto v = JwtVerifier::create(std::move(o), &error);
  ASSERT_NE(v, nullptr) << error;
  const std::string token = sign(JWT_ALG_HS256, kSecret, claims_json(kNow + 600));
  ASSERT_TRUE(v->verify(token, &reason)) << reason;
  ASSERT_TRUE(v->verify(token, &reason)) << reason;
  now = kNow + 600 + 61;  // past exp and the 60 s leeway
  EXPECT_FALSE(v->verify(token, &reason));
  EXPECT_THAT(reason, HasSubstr("expired"));

  now = kNow;
  const std::string later =
      sign(JWT_ALG_HS256, kSecret, claims_json(kNow + 3600, R"(,"nbf":)" + std::to_string(kNow + 600)));
  EXPECT_FALSE(v->verify(later, &reason));
  EXPECT_THAT(reason, HasSubstr("nbf"));
  now = kNow + 600;
  EXPECT_TRUE(v->verify(later, &reason)) << reason;
  now = kNow;  // a clock that steps back: the remembered token is not valid yet again
  EXPECT_FALSE(v->verify(later, &reason));
  EXPECT_THAT(reason, HasSubstr("nbf"));

  // A token refused for its signature stays refused, however often it comes.
  const std::string forged = sign(JWT_ALG_HS256, std::string(kSecret) + "x", claims_json(kNow + 600));
  EXPECT_FALSE(v->verify(forged, &reason));
  EXPECT_FALSE(v->verify(forged, &reason));
}

TEST(Jwt, RefusesWrongIssuerAudienceSignatureAndSubject) {
  auto v = hs256_verifier();
  std::string reason;
  EXPECT_FALSE(v->verify(sign(JWT_ALG_HS256, kSecret, claims_json(kNow + 60, "", "someone-else")), &reason));
  EXPECT_THAT(reason, HasSubstr("iss"));
  EXPECT_FALSE(v->verify(sign(JWT_ALG_HS256, kSecret, claims_json(kNow + 60, "", "portal-dev", "\"other\"")),
                         &reason));
  EXPECT_THAT(reason, HasSubstr("aud"));
  EXPECT_FALSE(v->verify(sign(JWT_ALG_HS256, kSecret + "x", claims_json()), &reason));
  EXPECT_THAT(reason, HasSubstr("signature"));
  EXPECT_FALSE(
      v->verify(sign(JWT_ALG_HS256, kSecret, claims_json(kNow + 60, "", "portal-dev", "\"portal\"", "alice")),
                &reason));
  EXPECT_THAT(reason, HasSubstr("UUID"));
  // A token with its claims swapped after signing.
  std::string token = sign(JWT_ALG_HS256, kSecret, claims_json());
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  std::string forged = token.substr(0, dot1 + 1) +
                       base64url_encode(claims_json(kNow + 60, "", "portal-dev", "\"portal\"",
                                                    "00000000-0000-0000-0000-000000000001")) +
                       token.substr(dot2);
  EXPECT_FALSE(v->verify(forged, &reason));
  EXPECT_FALSE(v->verify("not a token", &reason));
  EXPECT_FALSE(v->verify("", &reason));
}

TEST(Jwt, RefusesAlgNone) {
  auto v = hs256_verifier();
  std::string reason;
  std::string body = base64url_encode(claims_json());
  EXPECT_FALSE(v->verify(base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + body + ".", &reason));
  EXPECT_THAT(reason, HasSubstr("none"));
  EXPECT_FALSE(v->verify(base64url_encode(R"({"alg":"none"})") + "." + body + ".c2ln", &reason));
  EXPECT_FALSE(v->verify(base64url_encode(R"({"typ":"JWT"})") + "." + body + ".", &reason));
}

TEST(Jwt, Rs256AcceptsItsKeyAndRefusesAlgorithmConfusion) {
  KeyPair kp = generate(/*rsa=*/true);
  auto v = pem_verifier(kp.public_pem);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->algorithm(), "RS256");
  std::string reason;
  EXPECT_TRUE(v->verify(sign(JWT_ALG_RS256, kp.private_pem, claims_json()), &reason)) << reason;
  // The classic attack: HS256 with the (public) PEM text as the HMAC key. libjwt
  // alone would verify it with the configured key and accept it.
  EXPECT_FALSE(v->verify(hs256_by_hand(kp.public_pem, claims_json()), &reason));
  EXPECT_THAT(reason, HasSubstr("HS256"));
  // Another RSA key's signature.
  KeyPair other = generate(true);
  EXPECT_FALSE(v->verify(sign(JWT_ALG_RS256, other.private_pem, claims_json()), &reason));
}

TEST(Jwt, Es256AcceptsItsKeyAndRefusesOtherAlgorithms) {
  KeyPair kp = generate(/*rsa=*/false);
  auto v = pem_verifier(kp.public_pem);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->algorithm(), "ES256");
  std::string reason;
  EXPECT_TRUE(v->verify(sign(JWT_ALG_ES256, kp.private_pem, claims_json()), &reason)) << reason;
  EXPECT_FALSE(v->verify(hs256_by_hand(kp.public_pem, claims_json()), &reason));
}

TEST(Jwt, RefusesUnusableConfigurations) {
  std::string error;
  EXPECT_EQ(JwtVerifier::create(options("", ""), &error), nullptr);
  EXPECT_EQ(JwtVerifier::create(options("short", ""), &error), nullptr);
  EXPECT_THAT(error, HasSubstr("openssl rand"));
  EXPECT_EQ(JwtVerifier::create(options("", "garbage"), &error), nullptr);
  EXPECT_EQ(JwtVerifier::create(options(kSecret, "garbage"), &error), nullptr);
  JwtOptions wide = options(kSecret, "");
  wide.leeway_seconds = 600;
  EXPECT_EQ(JwtVerifier::create(wide, &error), nullptr);
}

// ----------------------------------------------------------------- portald

// A running portald on a free port, stopped (SIGTERM) by the test or the destructor.
// file_size_limit (bytes, 0: none) stands in for a full disk: no file it writes may
// grow past it (RLIMIT_FSIZE, with SIGXFSZ ignored so that the write fails instead).
class Portald {
 public:
  explicit Portald(const std::filesystem::path& dir, std::vector<std::string> extra = {},
                   rlim_t file_size_limit = 0) {
    std::filesystem::create_directories(dir / "data");
    std::ofstream(dir / "jwt.secret") << kSecret << "\n";
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      if (file_size_limit > 0) {
        signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{file_size_limit, file_size_limit};
        setrlimit(RLIMIT_FSIZE, &limit);
      }
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<std::string> args = {PORTALD_PATH,
                                       "--port",
                                       "0",
                                       "--data-dir",
                                       (dir / "data").string(),
                                       "--jwt-secret-file",
                                       (dir / "jwt.secret").string(),
                                       "--durability",
                                       "buffered",
                                       "--log-format",
                                       "text"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(PORTALD_PATH, argv.data());
      _exit(127);
    }
    close(out[1]);
    stdout_ = out[0];
    // Read the listening line (at most 30 s: the engine may be opening a store).
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(stdout_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    const std::string prefix = "portald: listening on http://127.0.0.1:";
    if (line.rfind(prefix, 0) != 0) throw std::runtime_error("portald did not start; stdout: " + line);
    port_ = std::stoi(line.substr(prefix.size()));
  }
  ~Portald() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) close(stdout_);
  }
  int port() const { return port_; }
  // SIGTERM, then the exit status (-1 if it did not exit within timeout).
  int terminate(std::chrono::seconds timeout) {
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  int port_ = 0;
};

class Connection {
 public:
  explicit Connection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect");
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Connection() { close(fd_); }

  // Sends everything it can (a server that answers early may stop reading).
  void send_all(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  struct Reply {
    int status = 0;
    std::string head, body;
  };
  // Reads one response (Content-Length framed); status 0 if the connection ended first.
  Reply read_reply() {
    Reply r;
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return r;
    }
    r.head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    r.status = std::stoi(r.head.substr(9, 3));
    std::size_t length = 0;
    std::string lower = r.head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto p = lower.find("content-length:"); p != std::string::npos)
      length = std::stoul(lower.substr(p + 15));
    while (buffer_.size() < length) {
      if (!fill()) break;
    }
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, std::min(length, buffer_.size()));
    return r;
  }

  Reply request(const std::string& method, const std::string& target, const std::string& extra_headers = "",
                const std::string& body = "") {
    send_all(
        method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers +
        (body.empty() && method == "GET" ? "" : "Content-Length: " + std::to_string(body.size()) + "\r\n") +
        "\r\n" + body);
    return read_reply();
  }

  bool closed_by_peer() {
    char c;
    return recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool fill() {
    char buf[16384];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buffer_;
};

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("portald-http-" + name + "-" + std::to_string(getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  return dir;
}

// A disk that refuses the event store's log (here: files may not grow past 2 MiB)
// turns commands into 503s that say what to do, and /healthz into 503 "failed"
// with the reason, until portald is restarted.
TEST(Portald, ADiskThatRefusesTheLogMakesCommandsAndHealthzFailWithTheReason) {
  auto dir = temp_dir("full-disk");
  Portald portald(dir, {"--durability", "sync"}, 2u << 20);
  for (int i = 0; i < 200; ++i) {
    Connection c(portald.port());
    if (c.request("GET", "/healthz").status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string auth =
      "Authorization: Bearer " + sign(JWT_ALG_HS256, kSecret, claims_json(std::time(nullptr) + 600)) + "\r\n";
  Connection c(portald.port());
  Connection::Reply refused;
  int registered = 0;
  for (; registered < 20000; ++registered) {
    char id[40];
    std::snprintf(id, sizeof id, "%08x-0000-4000-8000-000000000001", static_cast<unsigned>(registered));
    const std::string body = R"({"userId":")" + std::string(id) + R"(","email":"user-)" +
                             std::to_string(registered) + R"(@example.com","name":")" + std::string(48, 'n') +
                             R"("})";
    auto r = c.request("POST", "/accounts/register", auth, body);
    if (r.status != 200) {
      refused = r;
      break;
    }
  }
  ASSERT_LT(registered, 20000) << "the disk never refused the log";
  EXPECT_GT(registered, 100);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_THAT(refused.body,
              HasSubstr("free space or repair the disk, then reopen the engine (restart portald)"));
  Connection h(portald.port());
  auto health = h.request("GET", "/healthz");
  EXPECT_EQ(health.status, 503);
  EXPECT_THAT(health.body, HasSubstr(R"({"status":"failed","error":)"));
  EXPECT_THAT(health.body, HasSubstr("File too large"));
  auto again =
      c.request("POST", "/accounts/register", auth,
                R"({"userId":"ffffffff-0000-4000-8000-000000000001","email":"late@example.com","name":"L"})");
  EXPECT_EQ(again.status, 503) << again.body;
}

TEST(Portald, ServesHealthMetricsLimitsKeepAliveAndStopsOnSigterm) {
  auto dir = temp_dir("server");
  {
    Portald portald(dir);
    // Ready once the read models caught up.
    Connection::Reply health;
    for (int i = 0; i < 200; ++i) {
      Connection c(portald.port());
      health = c.request("GET", "/healthz");
      if (health.status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.body, R"({"status":"ready"})");

    {
      // Keep-alive: several requests on one connection, and unknown paths 404 with
      // the envelope.
      Connection c(portald.port());
      auto first = c.request("GET", "/no/such/route");
      EXPECT_EQ(first.status, 404);
      EXPECT_EQ(first.body, R"({"object":"error","message":"Resource not found.","validationErrors":null})");
      auto second = c.request("GET", "/healthz");
      EXPECT_EQ(second.status, 200);
      auto wrong_method = c.request("POST", "/healthz", "", "{}");
      EXPECT_EQ(wrong_method.status, 405);
      EXPECT_THAT(wrong_method.head, HasSubstr("Allow: GET"));
      auto metrics = c.request("GET", "/metrics");
      EXPECT_EQ(metrics.status, 200);
      EXPECT_THAT(metrics.head, HasSubstr("text/plain; version=0.0.4"));
      EXPECT_THAT(metrics.body, HasSubstr("portal_http_requests_total{route=\"GET /healthz\",method=\"GET\","
                                          "status=\"200\"}"));
      EXPECT_THAT(metrics.body,
                  HasSubstr("portal_http_request_duration_seconds_bucket{route=\"GET /healthz\""));
      EXPECT_THAT(metrics.body, HasSubstr("portal_projection_lag_events "));
      EXPECT_THAT(metrics.body, HasSubstr("portal_store_last_position "));
      EXPECT_THAT(metrics.body, HasSubstr("portal_store_group_commits_total "));
      EXPECT_THAT(metrics.body, HasSubstr("portal_store_syncs_total "));
      EXPECT_THAT(metrics.body, HasSubstr("portal_engine_snapshots_written_total "));
      EXPECT_THAT(metrics.body, HasSubstr("portal_engine_cold_loads_total "));
    }
    {
      Connection c(portald.port());
      auto r = c.request("POST", "/providers/x/users/invite", "", std::string(2 << 20, 'x'));
      EXPECT_EQ(r.status, 413);
      EXPECT_THAT(r.body, HasSubstr(R"("object":"error")"));
    }
    {
      // A chunked body over the limit is caught while it streams in.
      Connection c(portald.port());
      std::string chunk(64 * 1024, 'y');
      char size[16];
      std::snprintf(size, sizeof size, "%zx", chunk.size());
      std::string body;
      for (int i = 0; i < 20; ++i) body += std::string(size) + "\r\n" + chunk + "\r\n";
      c.send_all("POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + body +
                 "0\r\n\r\n");
      EXPECT_EQ(c.read_reply().status, 413);
    }
    {
      Connection c(portald.port());
      auto r = c.request("GET", "/healthz", "X-Big: " + std::string(10 * 1024, 'h') + "\r\n");
      EXPECT_EQ(r.status, 431);
      EXPECT_THAT(r.body, HasSubstr(R"("object":"error")"));
    }
    {
      Connection c(portald.port());
      c.send_all("THIS IS NOT HTTP\r\n\r\n");
      auto r = c.read_reply();
      EXPECT_EQ(r.status, 400);
      EXPECT_TRUE(c.closed_by_peer());
    }
    {
      // Authentication on a route of DESIGN.md section 6: no token, a forged one and
      // alg none are 401 with WWW-Authenticate; a good token gets past it. An unknown
      // path is 404 whatever the token.
      Connection c(portald.port());
      const std::string target = "/providers/" + kUser;
      auto none = c.request("GET", target);
      EXPECT_EQ(none.status, 401);
      EXPECT_THAT(none.head, HasSubstr("WWW-Authenticate: Bearer"));
      EXPECT_EQ(none.body, R"({"object":"error","message":"Unauthorized.","validationErrors":null})");
      std::string real_now = claims_json(std::time(nullptr) + 600);
      std::string forged = sign(JWT_ALG_HS256, kSecret + "-not", real_now);
      EXPECT_EQ(c.request("GET", target, "Authorization: Bearer " + forged + "\r\n").status, 401);
      std::string alg_none = base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(real_now) + ".";
      EXPECT_EQ(c.request("GET", target, "Authorization: Bearer " + alg_none + "\r\n").status, 401);
      std::string good = sign(JWT_ALG_HS256, kSecret, real_now);
      EXPECT_NE(c.request("GET", target, "Authorization: Bearer " + good + "\r\n").status, 401);
      EXPECT_EQ(c.request("GET", "/nothing", "Authorization: Bearer garbage\r\n").status, 404);
    }
    // A connection idle at shutdown is closed; the server exits 0 promptly.
    Connection idle(portald.port());
    EXPECT_EQ(idle.request("GET", "/healthz").status, 200);
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(portald.terminate(std::chrono::seconds(10)), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_TRUE(idle.closed_by_peer());
  }
  std::filesystem::remove_all(dir);
}

TEST(Portald, ClosesIdleConnectionsAndCapsConnections) {
  auto dir = temp_dir("limits");
  {
    // An idle timeout long enough that a and b are still open, on a loaded
    // machine, when c comes.
    Portald portald(dir, {"--idle-timeout-s", "3", "--max-connections", "2"});
    Connection a(portald.port());
    EXPECT_NE(a.request("GET", "/healthz").status, 0);
    Connection b(portald.port());
    EXPECT_NE(b.request("GET", "/healthz").status, 0);
    Connection c(portald.port());
    auto refused = c.read_reply();
    EXPECT_EQ(refused.status, 503);
    EXPECT_THAT(refused.body, HasSubstr("Too many connections"));
    // The idle timeout closes a and b; then there is room again.
    auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(a.closed_by_peer());
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
    EXPECT_TRUE(b.closed_by_peer());
    // The server counts a connection out just after closing it: room comes back
    // at most moments after b sees the close.
    int status = 503;
    for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      Connection d(portald.port());
      status = d.request("GET", "/healthz").status;
    }
    EXPECT_EQ(status, 200);
    EXPECT_EQ(portald.terminate(std::chrono::seconds(10)), 0);
  }
  std::filesystem::remove_all(dir);
}

TEST(Portald, RefusesToStartWithoutATokenKey) {
  auto dir = temp_dir("nokey");
  std::string command = "env -u PORTAL_JWT_SECRET " + std::string(PORTALD_PATH) + " --port 0 --data-dir " +
                        (dir / "data").string() + " 2>" + (dir / "err").string();
  int status = std::system(command.c_str());
  EXPECT_NE(status, 0);
  std::ifstream in(dir / "err");
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(err, HasSubstr("--jwt-secret-file"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace portal::http
