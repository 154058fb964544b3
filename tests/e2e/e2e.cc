#include "e2e.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <jwt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace portal::e2e {

namespace fs = std::filesystem;

// --- small utilities ----------------------------------------------------------------

namespace {

// One generator per thread: tests call random_hex and random_uuid from many
// threads at once.
std::mt19937_64& rng() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string random_hex(std::size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<unsigned>(rng()() & 0xff);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string random_uuid() {
  std::string h = random_hex(16);
  h[12] = '4';                               // version 4
  h[16] = "89ab"[rng()() % 4];               // variant 10xx
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

std::string base64url(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(data[k])); };
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (data.size() - i == 1) {
    const unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (data.size() - i == 2) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

// --- tokens ---------------------------------------------------------------------------

namespace {
Claims with_times(Claims c) {
  const std::int64_t now = now_seconds();
  if (c.iat == 0) c.iat = now;
  if (c.nbf == 0) c.nbf = now;
  if (c.exp == 0) c.exp = now + 3600;
  return c;
}
}  // namespace

std::string claims_json(const Claims& in) {
  const Claims c = with_times(in);
  json::object o;
  o["sub"] = c.sub;
  o["staff"] = c.staff;
  if (!c.email.empty()) o["email"] = c.email;
  if (!c.name.empty()) o["name"] = c.name;
  o["iat"] = c.iat;
  o["nbf"] = c.nbf;
  o["exp"] = c.exp;
  o["iss"] = c.iss;
  o["aud"] = c.aud;
  return json::serialize(o);
}

std::string mint(const Claims& in, const std::string& alg, const std::string& key) {
  const Claims c = with_times(in);
  jwt_t* jwt = nullptr;
  if (jwt_new(&jwt) != 0) throw std::runtime_error("jwt_new failed");
  bool ok = jwt_add_grant(jwt, "sub", c.sub.c_str()) == 0 && jwt_add_grant_bool(jwt, "staff", c.staff ? 1 : 0) == 0 &&
            jwt_add_grant_int(jwt, "iat", static_cast<long>(c.iat)) == 0 &&
            jwt_add_grant_int(jwt, "nbf", static_cast<long>(c.nbf)) == 0 &&
            jwt_add_grant_int(jwt, "exp", static_cast<long>(c.exp)) == 0 &&
            jwt_add_grant(jwt, "iss", c.iss.c_str()) == 0 && jwt_add_grant(jwt, "aud", c.aud.c_str()) == 0;
  if (ok && !c.email.empty()) ok = jwt_add_grant(jwt, "email", c.email.c_str()) == 0;
  if (ok && !c.name.empty()) ok = jwt_add_grant(jwt, "name", c.name.c_str()) == 0;
  if (ok) {
    ok = jwt_set_alg(jwt, jwt_str_alg(alg.c_str()), reinterpret_cast<const unsigned char*>(key.data()),
                     static_cast<int>(key.size())) == 0;
  }
  char* text = ok ? jwt_encode_str(jwt) : nullptr;
  jwt_free(jwt);
  if (text == nullptr) throw std::runtime_error("libjwt could not mint a token");
  std::string out(text);
  free(text);
  return out;
}

std::string mint_hs256(const Claims& claims, const std::string& secret) {
  return mint(claims, "HS256", secret);
}

std::string mint_alg_none(const Claims& claims) {
  return base64url(R"({"alg":"none","typ":"JWT"})") + "." + base64url(claims_json(claims)) + ".";
}

Claims User::claims() const {
  Claims c;
  c.sub = id;
  c.staff = staff;
  c.email = email;
  c.name = name;
  return c;
}

// --- HTTP -----------------------------------------------------------------------------

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

json::value HttpResponse::json() const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

std::uint64_t HttpResponse::position() const {
  const std::string h = header("X-Portal-Position");
  return h.empty() ? 0 : std::stoull(h);
}

std::string HttpResponse::describe() const {
  if (!transport_error.empty()) return "transport error: " + transport_error;
  return std::to_string(status) + " " + body.substr(0, 2000);
}

namespace {

int connect_to(std::uint16_t port, std::string* error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Sends everything it can; a peer that stops reading (a 413) ends the send early.
bool send_all(int fd, std::string_view bytes, std::string* error) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = std::string("send: ") + std::strerror(errno);
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string read_all(int fd) {
  std::string out;
  char buf[16384];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Parses the first response in `raw` (status line, fields, Content-Length body).
HttpResponse parse_response(const std::string& raw) {
  HttpResponse r;
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) {
    r.transport_error = "no complete response head in " + std::to_string(raw.size()) + " bytes: " + raw.substr(0, 200);
    return r;
  }
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  if (line.rfind("HTTP/1.1 ", 0) != 0 || line.size() < 12) {
    r.transport_error = "bad status line: " + line;
    return r;
  }
  r.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    r.headers[lower(line.substr(0, colon))] = value;
  }
  std::string body = raw.substr(end + 4);
  if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
    const std::size_t length = std::stoull(it->second);
    if (body.size() < length) {
      r.transport_error = "body shorter than Content-Length";
      return r;
    }
    body.resize(length);
  }
  r.body = std::move(body);
  return r;
}

}  // namespace

std::string raw_exchange(std::uint16_t port, const std::string& bytes) {
  std::string error;
  const int fd = connect_to(port, &error);
  if (fd < 0) return {};
  (void)send_all(fd, bytes, &error);
  ::shutdown(fd, SHUT_WR);
  std::string out = read_all(fd);
  ::close(fd);
  return out;
}

HttpResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                          const std::string& token, const std::optional<std::string>& body,
                          const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\nAccept: application/json\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  for (const auto& [k, v] : extra_headers) request += k + ": " + v + "\r\n";
  if (body) {
    request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body->size()) + "\r\n\r\n";
    request += *body;
  } else {
    request += "\r\n";
  }
  std::string error;
  const int fd = connect_to(port, &error);
  if (fd < 0) {
    HttpResponse r;
    r.transport_error = error;
    return r;
  }
  const bool sent = send_all(fd, request, &error);
  if (sent) ::shutdown(fd, SHUT_WR);
  const std::string raw = read_all(fd);
  ::close(fd);
  HttpResponse r = parse_response(raw);
  if (!r.transport_error.empty() && !sent) r.transport_error += " (after " + error + ")";
  return r;
}

// --- the server process ---------------------------------------------------------------

bool PortaldProcess::start(std::string* error, const std::string& public_key_pem,
                           const std::vector<std::string>& extra_flags) {
  std::string templ = (fs::temp_directory_path() / "portald-e2e-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    *error = "mkdtemp failed";
    return false;
  }
  dir_ = templ;
  const bool hs256 = public_key_pem.empty();
  if (hs256) secret_ = random_hex(32);  // 64 hex characters
  const std::string key_flag = hs256 ? "--jwt-secret-file" : "--jwt-public-key";
  const std::string key_file = dir_ + (hs256 ? "/jwt.secret" : "/jwt.pem");
  {
    std::ofstream out(key_file);
    out << (hs256 ? secret_ + "\n" : public_key_pem);
  }
  ::chmod(key_file.c_str(), 0600);
  const std::string data_dir = dir_ + "/data";
  const std::string log_file = dir_ + "/portald.log";

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *error = "pipe failed";
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args = {PORTALD_PATH, "--address",      "127.0.0.1", "--port",
                                   "0",          "--data-dir",     data_dir,    "--durability",
                                   "buffered",   key_flag,         key_file,    "--jwt-issuer",
                                   "portal-dev", "--jwt-audience", "portal",    "--threads",
                                   "2",          "--body-limit",   "1048576"};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, PORTALD_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    *error = std::string("posix_spawn ") + PORTALD_PATH + ": " + std::strerror(rc);
    return false;
  }
  pid_ = pid;
  stdout_fd_ = pipe_fds[0];

  // The listening line; EOF means portald exited.
  std::string line;
  char c = 0;
  while (true) {
    const ssize_t n = ::read(stdout_fd_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (c == '\n') {
      if (line.rfind("portald: listening on http://", 0) == 0) break;
      line.clear();
      continue;
    }
    line += c;
  }
  const std::string prefix = "portald: listening on http://";
  if (line.rfind(prefix, 0) != 0) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    *error = "portald did not report listening; log:\n" + log_tail();
    return false;
  }
  const auto colon = line.rfind(':');
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
  if (port_ == 0) {
    *error = "portald reported port 0: " + line;
    return false;
  }
  return true;
}

int PortaldProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

std::string PortaldProcess::log_tail(std::size_t bytes) const {
  std::ifstream in(dir_ + "/portald.log", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

// --- the fixture ------------------------------------------------------------------------

namespace {
PortaldProcess* g_server = nullptr;
std::optional<KeyPair> g_key;  // nullopt: HS256 with the server's secret
bool g_failed = false;
}  // namespace

User PortaldTest::staff_;

PortaldProcess* PortaldTest::server() { return g_server; }

void PortaldTest::start_server(const std::optional<KeyPair>& key,
                               const std::vector<std::string>& extra_flags) {
  g_failed = false;
  g_key = key;
  g_server = new PortaldProcess();
  std::string error;
  if (!g_server->start(&error, key ? key->public_pem : std::string(), extra_flags)) {
    delete g_server;
    g_server = nullptr;
    FAIL() << "cannot start portald: " << error;
  }
  staff_ = person("staff", true);
}

void PortaldTest::TearDownTestSuite() {
  if (g_server == nullptr) return;
  const std::string dir = g_server->dir();
  const int code = g_server->stop();
  EXPECT_EQ(code, 0) << "portald did not exit cleanly on SIGTERM; log:\n" << g_server->log_tail();
  if (g_failed) {
    std::cerr << "portald log (tail):\n" << g_server->log_tail() << "\n";
  }
  delete g_server;
  g_server = nullptr;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

void PortaldTest::SetUp() {
  if (g_server == nullptr) GTEST_FAIL() << "portald is not running";
}

void PortaldTest::TearDown() {
  if (HasFailure()) g_failed = true;
}

User PortaldTest::person(const std::string& label, bool staff) {
  User u;
  u.id = random_uuid();
  u.email = label + "-" + random_hex(4) + "@e2e.example";
  u.name = label + " " + u.email.substr(label.size() + 1, 8);
  u.staff = staff;
  return u;
}

std::string PortaldTest::token(const User& u) {
  return g_key ? mint(u.claims(), g_key->alg, g_key->private_pem)
               : mint_hs256(u.claims(), g_server->secret());
}

HttpResponse PortaldTest::call(const std::string& method, const std::string& target, const User& as,
                               const std::optional<json::value>& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  std::optional<std::string> text;
  if (body) text = json::serialize(*body);
  return http_request(g_server->port(), method, target, token(as), text, headers);
}

HttpResponse PortaldTest::raw(const std::string& method, const std::string& target, const std::string& tok,
                              const std::optional<std::string>& body,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
  return http_request(g_server->port(), method, target, tok, body, headers);
}

json::value PortaldTest::ok(const HttpResponse& r, const std::string& what) {
  if (r.status != 200) throw std::runtime_error(what + ": expected 200, got " + r.describe());
  json::value v = r.json();
  if (!v.is_object()) throw std::runtime_error(what + ": the body is not a JSON object: " + r.body);
  return v;
}

void PortaldTest::enroll(const User& u) { ok(get("/ciphers", u), "GET /ciphers as " + u.email); }

PortaldTest::Provider PortaldTest::make_provider(const std::string& label) {
  Provider p;
  p.owner = person(label + "-owner");
  enroll(p.owner);
  const json::value invited =
      ok(post("/admin/providers", staff_, json::object{{"type", 0}, {"ownerEmail", p.owner.email}}),
         "POST /admin/providers");
  p.id = str(invited, "id");
  p.owner_puid = str(invited, "ownerProviderUserId");
  const HttpResponse setup = post("/providers/" + p.id + "/setup", p.owner,
                                  json::object{{"token", str(invited, "token")},
                                               {"name", label + " IT"},
                                               {"businessName", label + " IT Ltd"},
                                               {"billingEmail", "billing@" + label + ".example"},
                                               {"key", kKey}});
  ok(setup, "POST /providers/{id}/setup");
  p.position = setup.position();
  return p;
}

std::string PortaldTest::add_provider_user(const Provider& p, const User& admin, const User& who, int type) {
  const json::value invited = ok(post("/providers/" + p.id + "/users/invite", admin,
                                      json::object{{"emails", json::array{json::value(who.email)}}, {"type", type}}),
                                 "invite provider user");
  const json::value& item = invited.at("data").at(0);
  if (str(item, "error") != "") throw std::runtime_error("invitation refused: " + json::serialize(item));
  const std::string puid = str(item, "id");
  enroll(who);
  ok(post("/providers/" + p.id + "/users/" + puid + "/accept", who, json::object{{"token", str(item, "token")}}),
     "accept provider invitation");
  ok(post("/providers/" + p.id + "/users/" + puid + "/confirm", admin, json::object{{"key", kKey}}),
     "confirm provider user");
  return puid;
}

PortaldTest::Client PortaldTest::make_client(const Provider& p, const User& admin, const std::string& label,
                                             bool owner_confirmed, int seats) {
  Client c;
  c.owner = person(label + "-client-owner");
  const HttpResponse created = post("/providers/" + p.id + "/clients", admin,
                                    json::object{{"name", label + " Client"},
                                                 {"ownerEmail", c.owner.email},
                                                 {"planType", 17},
                                                 {"seats", seats},
                                                 {"collectionName", "Default collection"}});
  const json::value v = ok(created, "POST /providers/{id}/clients");
  c.poid = str(v, "id");
  c.org = str(v, "organizationId");
  c.owner_ouid = str(v, "ownerOrganizationUserId");
  c.owner_token = str(v, "ownerInviteToken");
  c.position = created.position();
  if (owner_confirmed) {
    enroll(c.owner);
    ok(post("/organizations/" + c.org + "/users/" + c.owner_ouid + "/accept", c.owner,
            json::object{{"token", c.owner_token}}),
       "accept client ownership");
    const HttpResponse confirmed =
        post("/organizations/" + c.org + "/users/" + c.owner_ouid + "/confirm", admin, json::object{{"key", kKey}});
    ok(confirmed, "confirm client owner");
    c.position = confirmed.position();
  }
  return c;
}

std::vector<json::object> PortaldTest::all_events(const std::string& route, const User& as,
                                                  std::uint64_t min_position, std::vector<std::size_t>* page_sizes) {
  std::vector<json::object> out;
  std::string continuation;
  for (int pages = 0; pages < 1000; ++pages) {
    std::string target = route + "?minPosition=" + std::to_string(min_position);
    if (!continuation.empty()) {
      std::string encoded;
      for (unsigned char ch : continuation) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
          encoded += static_cast<char>(ch);
        } else {
          char buf[4];
          std::snprintf(buf, sizeof buf, "%%%02X", ch);
          encoded += buf;
        }
      }
      target += "&continuationToken=" + encoded;
    }
    const json::value page = ok(get(target, as), "GET " + target);
    if (str(page, "object") != "list") throw std::runtime_error("not a list: " + json::serialize(page));
    const json::array& data = page.at("data").as_array();
    if (page_sizes) page_sizes->push_back(data.size());
    for (const auto& e : data) out.push_back(e.as_object());
    const json::value& next = page.at("continuationToken");
    if (next.is_null()) return out;
    continuation = std::string(next.as_string());
  }
  throw std::runtime_error("more than 1000 pages of events");
}

// --- assertions ---------------------------------------------------------------------------

void expect_error(const HttpResponse& r, int status, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.describe();
  const json::value v = r.json();
  ASSERT_TRUE(v.is_object()) << "error body is not a JSON object: " << r.describe();
  const json::object& o = v.as_object();
  ASSERT_TRUE(o.contains("object") && o.at("object").is_string()) << r.body;
  EXPECT_EQ(o.at("object").as_string(), "error") << r.body;
  ASSERT_TRUE(o.contains("message") && o.at("message").is_string()) << r.body;
  EXPECT_FALSE(o.at("message").as_string().empty()) << r.body;
  if (!message.empty()) {
    EXPECT_EQ(o.at("message").as_string(), message) << r.body;
  }
  EXPECT_TRUE(o.contains("validationErrors")) << r.body;
}

void expect_validation(const HttpResponse& r, const std::string& field, const std::string& needle) {
  EXPECT_EQ(r.status, 400) << r.describe();
  const json::value v = r.json();
  ASSERT_TRUE(v.is_object()) << r.describe();
  const json::object& o = v.as_object();
  ASSERT_TRUE(o.contains("validationErrors")) << r.body;
  ASSERT_TRUE(o.at("validationErrors").is_object()) << "validationErrors is not an object: " << r.body;
  const json::object& errors = o.at("validationErrors").as_object();
  ASSERT_TRUE(errors.contains(field)) << "validationErrors does not name \"" << field << "\": " << r.body;
  ASSERT_TRUE(errors.at(field).is_array()) << r.body;
  ASSERT_FALSE(errors.at(field).as_array().empty()) << r.body;
  if (!needle.empty()) {
    bool found = false;
    for (const auto& m : errors.at(field).as_array()) {
      if (m.is_string() && lower(std::string(m.as_string())).find(lower(needle)) != std::string::npos) found = true;
    }
    EXPECT_TRUE(found) << "no message for \"" << field << "\" mentions \"" << needle << "\": " << r.body;
  }
}

std::string str(const json::value& v, const char* key) {
  if (!v.is_object()) throw std::runtime_error(std::string("not an object looking for ") + key);
  const json::value* x = v.as_object().if_contains(key);
  if (x == nullptr) throw std::runtime_error(std::string("missing \"") + key + "\" in " + json::serialize(v));
  if (x->is_null()) return {};
  if (!x->is_string()) throw std::runtime_error(std::string("\"") + key + "\" is not a string in " + json::serialize(v));
  return std::string(x->as_string());
}

std::int64_t num(const json::value& v, const char* key) {
  if (!v.is_object()) throw std::runtime_error(std::string("not an object looking for ") + key);
  const json::value* x = v.as_object().if_contains(key);
  if (x == nullptr) throw std::runtime_error(std::string("missing \"") + key + "\" in " + json::serialize(v));
  if (x->is_int64()) return x->as_int64();
  if (x->is_uint64()) return static_cast<std::int64_t>(x->as_uint64());
  throw std::runtime_error(std::string("\"") + key + "\" is not an integer in " + json::serialize(v));
}

}  // namespace portal::e2e
