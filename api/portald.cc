// portald: the HTTP adapter (DESIGN.md section 6). Opens the Engine on a data
// directory and serves the Bitwarden-shaped routes, /healthz, /metrics and /openapi.json over
// HTTP/1.1 until SIGTERM or SIGINT.
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "http/jwt_verifier.h"
#include "http/log.h"
#include "http/metrics.h"
#include "http/server.h"
#include "portal/api/allocator.h"
#include "portal/api/engine.h"
#include "portal/api/http.h"
#include "portal/api/openapi.h"
#include "portal/api/routes.h"
#include "text/text.h"

namespace {

using portal::http::Response;

constexpr const char* kUsage = R"(Usage: portald [options]

Serves the provider portal over HTTP/1.1 (Bitwarden-shaped routes, /healthz, /metrics,
/openapi.json).

Options (a config file takes the same names without "--", one "name = value" a line;
flags override it):
  --config FILE             read options from FILE
  --address ADDR            listen address (default 127.0.0.1)
  --port N                  listen port; 0 picks a free one (default 8080)
  --data-dir DIR            event store and read models (default ./data)
  --durability MODE         sync (fsync each acknowledged append) or buffered (default sync)
  --log-prefill-mib N       sync durability: MiB of zeros kept written ahead of the event
                            store's write-ahead log, so that its syncs overwrite blocks
                            already on disk (default 32; 0 on copy-on-write file systems
                            such as btrfs or zfs, where they gain nothing)
  --jwt-secret-file FILE    HS256 shared secret (else the PORTAL_JWT_SECRET environment variable)
  --jwt-public-key FILE     PEM public key: RSA for RS256, P-256 for ES256
  --jwt-issuer ISS          required "iss" claim (default portal-dev)
  --jwt-audience AUD        required "aud" claim (default portal)
  --threads N               I/O threads; they also run the handlers of reads (default 2)
  --workers N               threads for the handlers of commands (POST, PUT, DELETE), which
                            wait for their append to be durable (default 64; 0: the I/O threads)
  --command-attempts N      tries of a command whose streams others changed meanwhile, before
                            it is answered 409 Conflict (default 10)
  --max-connections N       open connections before new ones get 503 (default 1024)
  --body-limit BYTES        largest request body; more is 413 (default 1048576)
  --idle-timeout-s S        close a keep-alive connection idle this long (default 60)
  --request-timeout-s S     time to read a request body and write the response (default 30)
  --log-format FORMAT       json (default) or text, on stderr
  --self-registration       let any authenticated user register (development)
  --help                    this text

On start, prints "portald: listening on http://ADDRESS:PORT" to stdout.
)";

struct Settings {
  std::map<std::string, std::string> values = {
      // clang-format off
      {"address", "127.0.0.1"},      {"port", "8080"},              {"data-dir", "./data"},
      {"durability", "sync"},        {"jwt-secret-file", ""},       {"jwt-public-key", ""},
      {"jwt-issuer", "portal-dev"},  {"jwt-audience", "portal"},    {"threads", "2"},
      {"workers", "64"},             {"command-attempts", "10"},    {"max-connections", "1024"},
      {"body-limit", "1048576"},     {"idle-timeout-s", "60"},      {"request-timeout-s", "30"},
      {"log-format", "json"},        {"self-registration", "false"}, {"log-prefill-mib", "32"},
      // clang-format on
  };
};

int usage_error(const std::string& message) {
  std::cerr << "portald: " << message << "\nRun `portald --help` for the options.\n";
  return 2;
}

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Reads "name = value" lines into settings; '#' starts a comment line.
bool read_config(const std::string& path, Settings& settings, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read config file " + path;
    return false;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    std::string key = trim(line.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "self-registration") {
        settings.values[key] = "true";
        continue;
      }
      *error = path + ":" + std::to_string(number) + ": expected \"name = value\"";
      return false;
    }
    if (!settings.values.contains(key)) {
      *error = path + ":" + std::to_string(number) + ": unknown option \"" + key + "\"";
      return false;
    }
    settings.values[key] = trim(line.substr(eq + 1));
  }
  return true;
}

template <class T>
bool parse_number(const Settings& s, const std::string& key, T min, T max, T* out, std::string* error) {
  const std::string& text = s.values.at(key);
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    *error = "--" + key + " must be a whole number from " + std::to_string(min) + " to " +
             std::to_string(max) + " (got \"" + text + "\")";
    return false;
  }
  *out = value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace portal;
  Settings settings;
  // Flags first into their own map, so that they override the config file.
  std::map<std::string, std::string> flags;
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg.rfind("--", 0) != 0) return usage_error("unexpected argument \"" + arg + "\"");
    std::string name = arg.substr(2), value;
    auto eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "self-registration") {
      flags[name] = inline_value ? value : "true";
      continue;
    }
    if (name != "config" && !settings.values.contains(name)) return usage_error("unknown option --" + name);
    if (!inline_value) {
      if (i + 1 >= argc) return usage_error("--" + name + " needs a value");
      value = argv[++i];
    }
    if (name == "config") {
      config_path = value;
    } else {
      flags[name] = value;
    }
  }
  std::string error;
  if (!config_path.empty() && !read_config(config_path, settings, &error)) return usage_error(error);
  for (auto& [k, v] : flags) settings.values[k] = v;
  auto& v = settings.values;

  http::ServerOptions server_options;
  server_options.address = v["address"];
  std::uint16_t port = 0;
  int threads = 0, workers = 0, command_attempts = 0, log_prefill_mib = 0;
  std::size_t max_connections = 0, body_limit = 0;
  long idle = 0, request_timeout = 0;
  if (!parse_number<std::uint16_t>(settings, "port", 0, 65535, &port, &error) ||
      !parse_number<int>(settings, "threads", 1, 256, &threads, &error) ||
      !parse_number<int>(settings, "workers", 0, 1024, &workers, &error) ||
      !parse_number<int>(settings, "command-attempts", 1, 100, &command_attempts, &error) ||
      !parse_number<int>(settings, "log-prefill-mib", 0, 1024, &log_prefill_mib, &error) ||
      !parse_number<std::size_t>(settings, "max-connections", 1, 1'000'000, &max_connections, &error) ||
      !parse_number<std::size_t>(settings, "body-limit", 1, std::size_t{1} << 30, &body_limit, &error) ||
      !parse_number<long>(settings, "idle-timeout-s", 1, 86'400, &idle, &error) ||
      !parse_number<long>(settings, "request-timeout-s", 1, 86'400, &request_timeout, &error)) {
    return usage_error(error);
  }
  server_options.port = port;
  server_options.threads = threads;
  server_options.workers = workers;
  server_options.max_connections = max_connections;
  server_options.body_limit = body_limit;
  server_options.idle_timeout = std::chrono::seconds(idle);
  server_options.request_timeout = std::chrono::seconds(request_timeout);

  EngineOptions engine_options;
  engine_options.max_attempts = command_attempts;
  engine_options.log_prefill_bytes = static_cast<std::size_t>(log_prefill_mib) << 20;
  if (v["durability"] == "sync") {
    engine_options.durability = eventstore::Durability::kSync;
  } else if (v["durability"] == "buffered") {
    engine_options.durability = eventstore::Durability::kBuffered;
  } else {
    return usage_error("--durability must be sync or buffered");
  }
  http::LogFormat log_format;
  if (v["log-format"] == "json") {
    log_format = http::LogFormat::kJson;
  } else if (v["log-format"] == "text") {
    log_format = http::LogFormat::kText;
  } else {
    return usage_error("--log-format must be json or text");
  }
  const std::string& self_reg = v["self-registration"];
  if (self_reg != "true" && self_reg != "false")
    return usage_error("self-registration must be true or false");

  // Token verification: HS256 from a file or the environment, or a PEM public key.
  http::JwtOptions jwt_options;
  jwt_options.issuer = v["jwt-issuer"];
  jwt_options.audience = v["jwt-audience"];
  if (!v["jwt-secret-file"].empty() && !v["jwt-public-key"].empty()) {
    return usage_error("give either --jwt-secret-file (HS256) or --jwt-public-key (RS256/ES256), not both");
  }
  if (!v["jwt-public-key"].empty()) {
    if (!read_file(v["jwt-public-key"], &jwt_options.public_key_pem)) {
      return usage_error("cannot read --jwt-public-key " + v["jwt-public-key"]);
    }
  } else if (!v["jwt-secret-file"].empty()) {
    if (!read_file(v["jwt-secret-file"], &jwt_options.hs256_secret)) {
      return usage_error("cannot read --jwt-secret-file " + v["jwt-secret-file"]);
    }
    // Editors and `echo` add a newline that is not part of the secret.
    jwt_options.hs256_secret = trim(jwt_options.hs256_secret);
  } else if (const char* env = std::getenv("PORTAL_JWT_SECRET"); env != nullptr && *env != '\0') {
    jwt_options.hs256_secret = trim(env);
  } else {
    return usage_error(
        "no token key configured. For development: `openssl rand -hex 32 > jwt.secret` and pass "
        "--jwt-secret-file jwt.secret (or set PORTAL_JWT_SECRET); for an identity provider: "
        "--jwt-public-key key.pem (RS256 or ES256)");
  }
  auto verifier = http::JwtVerifier::create(jwt_options, &error);
  if (!verifier) return usage_error("token key: " + error);

  http::init_logging(log_format);
  std::error_code fs_error;
  std::filesystem::create_directories(v["data-dir"], fs_error);
  auto opened = Engine::open(v["data-dir"], engine_options);
  if (!opened.ok()) {
    std::cerr << "portald: cannot open the data directory " << v["data-dir"] << ": " << opened.error().message
              << "\n";
    http::flush_logging();
    return 1;
  }
  std::unique_ptr<Engine> engine = std::move(opened.value());

  http::Router router;
  http::Metrics metrics;
  std::unique_ptr<http::Server> server;
  std::atomic<bool> ready{false};
  router.add(
      "GET", "/healthz",
      [&](const http::Request&) {
        Response r;
        // A store that stopped taking commands (a full disk, a failed sync) stays
        // so until it is reopened: say why, so that whoever watches restarts us.
        if (const eventstore::Status health = engine->store().health(); !health.ok()) {
          r.status = 503;
          r.body = R"({"status":"failed","error":)" + text::json_quote(health.to_string()) + "}";
          return r;
        }
        // Ready once the read models have caught up with the log at least once;
        // after that a lag is normal work, not unreadiness.
        if (!ready.load()) {
          auto* runner = engine->runner();
          if (runner == nullptr || runner->lag() == 0) ready = true;
        }
        r.status = ready ? 200 : 503;
        r.body = ready ? R"({"status":"ready"})" : R"({"status":"starting"})";
        return r;
      },
      http::Auth::kNone);
  router.add(
      "GET", "/metrics",
      [&](const http::Request&) {
        std::vector<http::Metrics::Sample> samples;
        auto* runner = engine->runner();
        samples.push_back({"portal_projection_lag_events", "Events the slowest read model is behind the log.",
                           "gauge", runner ? static_cast<double>(runner->lag()) : 0.0});
        samples.push_back({"portal_store_last_position", "Position of the last event in the log.", "gauge",
                           static_cast<double>(engine->store().last_position())});
        samples.push_back({"portal_engine_snapshots_written_total",
                           "Aggregate snapshots the engine wrote since start.", "counter",
                           static_cast<double>(engine->snapshots_written())});
        samples.push_back({"portal_engine_cold_loads_total",
                           "Aggregates the engine loaded from the store (not cached) since start.", "counter",
                           static_cast<double>(engine->cold_loads())});
        if (auto* rocks = dynamic_cast<eventstore::RocksDbEventStore*>(&engine->store())) {
          samples.push_back({"portal_store_group_commits_total",
                             "Group commits (one write batch each) since start.", "counter",
                             static_cast<double>(rocks->group_commits())});
          samples.push_back({"portal_store_syncs_total",
                             "Syncs of the log to disk (sync durability; each covers every append written "
                             "before it) since start.",
                             "counter", static_cast<double>(rocks->syncs())});
        }
        if (server) {
          samples.push_back({"portal_http_connections_active", "Open HTTP connections.", "gauge",
                             static_cast<double>(server->active_connections())});
          samples.push_back({"portal_http_connections_refused_total",
                             "Connections refused with 503 over --max-connections.", "counter",
                             static_cast<double>(server->refused_connections())});
        }
        Response r;
        r.body = metrics.render(samples);
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return r;
      },
      http::Auth::kNone);
  api::RoutesOptions routes_options;
  routes_options.self_registration = self_reg == "true";
  api::add_routes(router, *engine, routes_options);
  api::add_openapi_route(router);  // last: its document lists every route above

  server = std::make_unique<http::Server>(server_options, router, verifier->authenticator(), metrics);
  if (!server->listen(&error)) {
    std::cerr << "portald: " << error << "\n";
    engine->close();
    http::flush_logging();
    return 1;
  }
  server->start();
  std::string where = "http://" + server_options.address + ":" + std::to_string(server->port());
  std::printf("portald: listening on %s\n", where.c_str());
  std::fflush(stdout);
  http::log_info("listening on " + where + " (data " + v["data-dir"] + ", " + v["durability"] +
                 " durability, " + verifier->algorithm() + " tokens, " + std::to_string(threads) +
                 " threads, " + std::to_string(workers) + " command workers, " + memory_allocator() +
                 " malloc)");

  server->wait_for_signal();
  http::log_info("shutting down: finishing in-flight requests (at most 10 s)");
  std::size_t cut = server->shutdown(std::chrono::seconds(10));
  if (cut > 0) http::log_warn(std::to_string(cut) + " connections cut at the shutdown deadline");
  server.reset();
  engine->close();
  http::log_info("stopped");
  http::flush_logging();
  return 0;
}
