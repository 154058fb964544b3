// portalctl: the operator and audit tool (DESIGN.md section 6, issue 5).
//
//   portalctl audit --org ID | --provider ID | --actor ID | --item ID [--from T] [--to T] [--format F]
//   portalctl state STREAM [--at T]
//   portalctl who-administered --org ID [--at T] | --provider ID | --actor ID [--format F]
//   portalctl verify
//   portalctl rebuild --all | NAME...
//   portalctl token --user ID [--staff] [--ttl 1h] [--email E] [--name N] [--secret-file FILE] ...
//   portalctl demo [--seed N]
//
// Every command takes --data-dir DIR (default ./data) and --help. Exit codes: 0 ok,
// 1 a finding (verify found a problem) or a failure (the message says what to do),
// 2 a usage error. Read commands open the event store and the read models
// read-only, so they are safe beside a running portald; `demo` writes and needs
// the data directory to itself.
//
// The command line is parsed by hand: CLI11 is not among the installed packages,
// and the contract (exit code 2 with one line naming the problem) is small.
#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <jwt.h>

#include "cli/format.h"
#include "cli/state_json.h"
#include "portal/api/demo.h"
#include "portal/api/engine.h"
#include "portal/domain/events.h"
#include "portal/domain/snapshot.h"
#include "portal/domain/state.h"
#include "portal/eventstore/rocksdb_event_store.h"
#include "portal/projections/admin_history.h"
#include "portal/projections/audit_log.h"
#include "portal/projections/catalog.h"
#include "portal/projections/projection_db.h"
#include "portal/projections/runner.h"

namespace portal::cli {
namespace {

namespace d = domain;
namespace es = eventstore;
namespace pj = projections;
namespace fs = std::filesystem;

constexpr int kOk = 0;
constexpr int kFinding = 1;  // also: the command could not be carried out
constexpr int kUsage = 2;

// Events per read_stream call when folding a stream.
constexpr std::size_t kStreamPage = 512;
// Audit entries per query_audit page: output starts at once and memory stays flat.
constexpr std::size_t kAuditPage = 500;

// ---------------------------------------------------------------------------
// The command line.

struct Spec {
  const char* name;
  const char* summary;  // one line for `portalctl --help`
  const char* help;     // `portalctl NAME --help`
  std::vector<std::string> value_flags;
  std::vector<std::string> bool_flags;
  bool positionals = false;
};

const std::vector<Spec>& specs() {
  static const std::vector<Spec> kSpecs = {
      {"audit",
       "export the audit history of an organization, provider, user or item",
       R"(Usage: portalctl audit (--org ID | --provider ID | --actor ID | --item ID)
                      [--from T] [--to T] [--format table|csv|jsonl] [--data-dir DIR]

The audit history, oldest first, streamed from the audit read model page by page:
every event with Bitwarden's event fields and codes. An organization's history holds
the provider-side events about it (1900-1903); a provider's history also rolls up
the client-organization events its users performed.

Options:
  --org ID          events of an organization
  --provider ID     events of a provider (and its users' work in client organizations)
  --actor ID        events a user performed
  --item ID         events of a vault item (cipher)
  --from T          from instant T on (inclusive); default: the beginning
  --to T            up to instant T (inclusive; a date alone includes that whole day);
                    default: the end
  --format F        table (default), csv (header row, like Bitwarden's event export)
                    or jsonl (one JSON object per line, camelCase keys)
  --page-size N     entries read from the audit log at a time (default 500); output
                    starts after the first page and memory stays flat
  --data-dir DIR    the portal data directory; default ./data

T is ISO 8601 UTC: 2026-11-22T10:00:00Z, 2026-11-22T10:00:00.250Z or 2026-11-22.
CSV columns: date,type,event,actingUserId,actingUserEmail,actingAs,providerId,
organizationId,providerOrganizationId,providerUserId,organizationUserId,cipherId,
collectionId,groupId,policyType,deviceType,ipAddress,position.
Nothing matched: exit 0 and no rows (CSV still prints its header row).

Example:
  portalctl audit --org 6f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f --from 2026-11-01 --format csv > org.csv
)",
       {"--org", "--provider", "--actor", "--item", "--from", "--to", "--format", "--page-size"},
       {}},
      {"state",
       "an aggregate's state as of an instant, replayed from the event log",
       R"(Usage: portalctl state STREAM [--at T] [--data-dir DIR]

Replays the events of STREAM recorded at or before T and prints the aggregate's
state as JSON (enums as numbers, instants in ISO 8601 UTC, EncStrings as stored;
token hashes are left out). STREAM is provider-ID, org-ID, user-ID, item-ID or
email-HASH, as stored in the log.

Options:
  --at T            the instant (ISO 8601 UTC; a date alone is its midnight);
                    default: now (every event)
  --data-dir DIR    the portal data directory; default ./data

Exit 1 when the stream has no events (or none yet at T).

Example:
  portalctl state org-6f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f --at 2026-11-22T10:00:00Z
)",
       {"--at"},
       {},
       true},
      {"who-administered",
       "who had administrative access to a client, and what provider users did there",
       R"(Usage: portalctl who-administered (--org ID [--at T] | --provider ID | --actor ID)
                                 [--format table|csv|jsonl] [--data-dir DIR]

The administration history:
  --org ID          every interval of administrative access to the organization
                    (its provider's confirmed users while it was a client, and its
                    own confirmed Owners and Admins); with --at T, who had access
                    at that instant
  --provider ID     per client organization, the provider users who acted on it:
                    commands, first and last time, last action
  --actor ID        the client organizations a user acted on through a provider

Options:
  --at T            an instant (ISO 8601 UTC; a date alone is its midnight); only with --org
  --format F        table (default), csv or jsonl
  --data-dir DIR    the portal data directory; default ./data

Example:
  portalctl who-administered --org 6f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f --at 2026-11-22T10:00:00Z
)",
       {"--org", "--provider", "--actor", "--at", "--format"},
       {}},
      {"verify",
       "check every record, index, checkpoint and read model of the store",
       R"(Usage: portalctl verify [--data-dir DIR]

Checks, one line each (ok, or FAILED with the details), then a summary:
  records          every record of the log verifies (checksum, FlatBuffers, payload
                   and actor decode) and positions run 1, 2, 3, ... without a gap
  streams index    every stream index entry points at the record of that stream and
                   version; versions of each stream run 0, 1, 2, ...; heads match
  checkpoint NAME  each read model's checkpoint is at most the log's last position
  audit index      every audit entry decodes, is filed under its own position and
                   equals the entry its event in the log makes; every index (by
                   organization, provider, actor, item) lists exactly those entries
  rebuild NAME     a fresh rebuild of each read model (in a temporary directory, up
                   to the serving checkpoint) has the serving generation's digest

Opens everything read-only: safe while portald runs. The rebuild check needs free
space in the temporary directory ($TMPDIR) for a copy of the read models.
Exit 0 when every check passed, 1 when one failed.

Example:
  portalctl verify --data-dir /var/lib/portal
)",
       {},
       {}},
      {"rebuild",
       "rebuild read models from the event log while the current ones keep serving",
       R"(Usage: portalctl rebuild (--all | NAME...) [--data-dir DIR]

Rebuilds the named read models (audit, admin-history) from position 0 into new
generations, switches each in with one atomic write and drops the old one. A
rebuild that was interrupted resumes where it stopped. On a terminal a progress
line shows events done, rate and time left; otherwise one summary line at the end.

The read models' database must not be in use: stop portald first (portald rebuilds
read models whose version changed by itself when it starts).

Options:
  --all             every read model
  --data-dir DIR    the portal data directory; default ./data

Example:
  portalctl rebuild --all --data-dir /var/lib/portal
)",
       {},
       {"--all"},
       true},
      {"token",
       "mint a development token (HS256 JWT) for portald",
       R"(Usage: portalctl token --user ID [--staff] [--ttl 1h] [--email E] [--name N]
                       [--secret-file FILE] [--issuer portal-dev] [--audience portal]
                       [--data-dir DIR]

Mints a JSON Web Token signed with HS256 (by libjwt) and prints it alone on stdout,
for portald's Authorization: Bearer header. Claims: sub (the user id), staff (true,
only with --staff), email and name (when given), iat and nbf (now), exp (now + ttl),
iss and aud.

The shared secret is read from, in this order: --secret-file FILE, the environment
variable PORTAL_JWT_SECRET, or DIR/jwt.secret (scripts/run.sh creates it and starts
portald with --jwt-secret-file DIR/jwt.secret). As for portald, surrounding
whitespace (a trailing newline) is not part of the secret, and it has at least 32
bytes. A development tool: a real identity
provider signs with its own key (RS256 or ES256).

Options:
  --user ID           the acting user's id (a UUID); required
  --staff             mark the token as staff's
  --ttl D             lifetime: seconds, or a number with s, m, h or d; default 1h
  --email E           the email claim (with --name: portald registers an unknown
                      user on first use)
  --name N            the name claim
  --secret-file FILE  the HS256 secret
  --issuer I          the iss claim; default portal-dev (portald's --jwt-issuer)
  --audience A        the aud claim; default portal (portald's --jwt-audience)
  --data-dir DIR      where jwt.secret is looked for; default ./data

Example:
  TOKEN=$(portalctl token --user 6f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f --ttl 12h)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/providers/PROVIDER_ID/organizations
)",
       {"--user", "--ttl", "--email", "--name", "--secret-file", "--issuer", "--audience"},
       {"--staff"}},
      {"demo",
       "load the demo provider, its team and 25 client organizations",
       R"(Usage: portalctl demo [--seed N] [--data-dir DIR]

Loads demo data into the data directory (created if absent) through the engine:
a staff user; the MSP provider "Northwind IT" with two ProviderAdmins and three
service users; 25 client organizations added by the provider, each with its owner,
3 to 6 members (Admin, User, Custom), groups, collections with access, policies and
vault items (valid EncStrings); and a history of administration (provider users
opening client consoles, updating seats, inviting members), dated over the three
weeks before the load: the provider set up first, the clients added over the
following two weeks, the administration since. Then waits for the
read models, prints a summary and writes DIR/demo.json (ids and emails) and
DIR/demo.env (shell variables: PROVIDER_ID, ADMIN_USER_ID, STAFF_USER_ID, ORG_ID,
...) for scripts.

Idempotent: command ids derive from the seed, so running it again on the same
data directory records nothing new (and an interrupted load resumes).
It writes to the store: portald must not be running on DIR; stop it first.

Options:
  --seed N          shapes the demo (members, seats, items) and its ids; default 1
  --data-dir DIR    the portal data directory; default ./data

Example:
  portalctl demo --data-dir ./data && . ./data/demo.env && echo "$PROVIDER_ID"
)",
       {"--seed"},
       {}},
  };
  return kSpecs;
}

const Spec* find_spec(std::string_view name) {
  for (const auto& s : specs())
    if (name == s.name) return &s;
  return nullptr;
}

void print_main_help(std::FILE* out) {
  std::string text =
      "portalctl: the operator and audit tool of the provider portal engine.\n\n"
      "Usage: portalctl COMMAND [OPTIONS] [--data-dir DIR]\n\nCommands:\n";
  for (const auto& s : specs()) {
    std::string name = s.name;
    name.resize(std::max<std::size_t>(name.size() + 2, 18), ' ');
    text += "  " + name + s.summary + "\n";
  }
  text +=
      "\nOptions:\n"
      "  --data-dir DIR    the portal data directory (store/, projections/, engine.key);\n"
      "                    default ./data\n"
      "  --help            this help; 'portalctl COMMAND --help' documents a command\n\n"
      "Exit codes: 0 ok, 1 a finding (verify found a problem) or a failure, 2 a usage error.\n"
      "Read commands open the store read-only: they are safe while portald runs.\n";
  std::fputs(text.c_str(), out);
}

struct Args {
  const Spec* spec = nullptr;
  std::string data_dir = "data";
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  std::vector<std::string> positionals;
  bool help = false;

  const std::string* value(const std::string& flag) const {
    auto it = values.find(flag);
    return it == values.end() ? nullptr : &it->second;
  }
  bool flag(const std::string& name) const { return flags.contains(name); }
};

// One line naming the problem, pointing to --help.
int usage_error(const Spec* spec, const std::string& problem) {
  const std::string cmd = spec ? std::string("portalctl ") + spec->name : std::string("portalctl");
  std::fprintf(stderr, "%s: %s; see '%s --help'.\n", cmd.c_str(), problem.c_str(), cmd.c_str());
  return kUsage;
}

// A failure that is not the user's typing: what went wrong and what to do.
int failure(const Spec* spec, const std::string& message) {
  std::fprintf(stderr, "portalctl %s: %s\n", spec->name, message.c_str());
  return kFinding;
}

// Parses argv; returns an exit code when parsing ends the run (help, usage error).
std::optional<int> parse_args(int argc, char** argv, Args& args) {
  std::vector<std::string> rest(argv + 1, argv + argc);
  bool data_dir_seen = false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    std::string arg = rest[i];
    std::optional<std::string> inline_value;
    if (arg.starts_with("--")) {
      if (const auto eq = arg.find('='); eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg.resize(eq);
      }
    }
    auto take_value = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 < rest.size()) return rest[++i];
      return std::nullopt;
    };
    if (arg == "--help" || arg == "-h") {
      args.help = true;
      continue;
    }
    if (arg == "--data-dir") {
      auto v = take_value();
      if (!v || v->empty()) return usage_error(args.spec, "--data-dir needs a directory");
      if (data_dir_seen) return usage_error(args.spec, "--data-dir is given twice");
      data_dir_seen = true;
      args.data_dir = *v;
      continue;
    }
    if (args.spec == nullptr) {
      if (arg == "help" && !args.help) {
        args.help = true;
        continue;
      }
      if (arg.starts_with("-"))
        return usage_error(nullptr, "unknown option '" + arg + "' before the command");
      args.spec = find_spec(arg);
      if (args.spec == nullptr) return usage_error(nullptr, "unknown command '" + arg + "'");
      continue;
    }
    const Spec& spec = *args.spec;
    if (arg.starts_with("-") && arg != "-") {
      if (std::find(spec.value_flags.begin(), spec.value_flags.end(), arg) != spec.value_flags.end()) {
        auto v = take_value();
        if (!v || (!inline_value && v->starts_with("--")))
          return usage_error(args.spec, arg + " needs a value");
        if (args.values.contains(arg)) return usage_error(args.spec, arg + " is given twice");
        args.values[arg] = *v;
        continue;
      }
      if (std::find(spec.bool_flags.begin(), spec.bool_flags.end(), arg) != spec.bool_flags.end()) {
        if (inline_value) return usage_error(args.spec, arg + " takes no value");
        args.flags[arg] = true;
        continue;
      }
      return usage_error(args.spec, "unknown option '" + arg + "'");
    }
    if (!spec.positionals) return usage_error(args.spec, "unexpected argument '" + arg + "'");
    args.positionals.push_back(arg);
  }
  if (args.help) {
    if (args.spec) {
      std::fputs(args.spec->help, stdout);
    } else {
      print_main_help(stdout);
    }
    return kOk;
  }
  if (args.spec == nullptr) return usage_error(nullptr, "no command given");
  return std::nullopt;
}

// Parsed option values; nullopt after a usage error was printed.
std::optional<d::Uuid> id_option(const Args& args, const std::string& flag, int& exit_code) {
  const std::string* v = args.value(flag);
  auto id = d::Uuid::parse(*v);
  if (!id) exit_code = usage_error(args.spec, flag + " '" + *v + "' is not a UUID");
  return id;
}

// An instant option (a date alone is its midnight).
std::optional<std::int64_t> instant_option(const Args& args, const std::string& flag, int& exit_code) {
  const std::string* v = args.value(flag);
  auto at = parse_instant(*v);
  if (!at) {
    exit_code = usage_error(args.spec, flag + " '" + *v +
                                           "' is not an ISO 8601 UTC instant such as 2026-11-22T10:00:00Z "
                                           "or 2026-11-22");
  }
  return at;
}

std::optional<Format> format_option(const Args& args, int& exit_code) {
  const std::string* v = args.value("--format");
  if (v == nullptr) return Format::kTable;
  auto f = parse_format(*v);
  if (!f) exit_code = usage_error(args.spec, "--format '" + *v + "' is not one of table, csv, jsonl");
  return f;
}

// ---------------------------------------------------------------------------
// Opening the data directory.

std::string data_dir_hint() {
  return "pass --data-dir with the portal data directory, the one that holds store/, projections/ and "
         "engine.key";
}

std::unique_ptr<es::RocksDbEventStore> open_store(const Args& args, int& exit_code) {
  const fs::path path = fs::path(args.data_dir) / "store";
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    exit_code =
        failure(args.spec, "there is no event store in " + path.string() + ": " + data_dir_hint() + ".");
    return nullptr;
  }
  es::RocksDbOptions options;
  options.read_only = true;
  options.create_if_missing = false;
  auto store = es::RocksDbEventStore::open(path.string(), options);
  if (!store.ok()) {
    exit_code = failure(args.spec, "cannot open the event store in " + path.string() + ": " +
                                       store.status().to_string() +
                                       ". Check that the directory is readable by you and holds a portal "
                                       "store; run portalctl verify once it opens.");
    return nullptr;
  }
  return std::move(store).value();
}

std::unique_ptr<pj::ProjectionDb> open_projections(const Args& args, bool read_only, int& exit_code) {
  const fs::path path = fs::path(args.data_dir) / "projections";
  std::error_code ec;
  if (read_only && !fs::is_directory(path, ec)) {
    if (!fs::is_directory(fs::path(args.data_dir) / "store", ec)) {
      exit_code =
          failure(args.spec, "there is no portal data in " + args.data_dir + ": " + data_dir_hint() + ".");
    } else {
      exit_code = failure(args.spec, "there are no read models in " + path.string() +
                                         " yet: start portald once, or run 'portalctl rebuild --all'.");
    }
    return nullptr;
  }
  auto db = pj::ProjectionDb::open(path.string(), read_only);
  if (!db.ok()) {
    const auto& s = db.status();
    if (!read_only && s.code() == es::StatusCode::kUnavailable &&
        s.message().find("lock") != std::string::npos) {
      exit_code = failure(args.spec, "the read models in " + path.string() +
                                         " are in use by another process (is portald running?). Stop "
                                         "portald, then run this again.");
    } else {
      exit_code =
          failure(args.spec, "cannot open the read models in " + path.string() + ": " + s.to_string() +
                                 ". If they are damaged, move the directory aside and run 'portalctl rebuild "
                                 "--all'.");
    }
    return nullptr;
  }
  return std::move(db).value();
}

// The read models the Engine runs, in its order.
std::vector<std::unique_ptr<pj::Projection>> engine_projections() {
  return pj::portal_projections();
}

std::string known_projection_names() {
  std::string known;
  for (const auto& p : engine_projections()) known += (known.empty() ? "" : ", ") + std::string(p->name());
  return known;
}

// ---------------------------------------------------------------------------
// Folding streams.

struct Folded {
  std::uint64_t events = 0;
  std::uint64_t version = 0;            // of the last event folded
  std::uint64_t position = 0;           // of the last event folded
  std::int64_t at = 0;                  // recorded-at of the last event folded
  std::optional<std::int64_t> next_at;  // recorded-at of the first event left out
};

// Folds the stream's events from version `first` on, recorded at or before `until`,
// into state.
template <class State>
es::Status fold_stream(es::EventStore& store, const std::string& stream, std::int64_t until, State& state,
                       Folded& folded, std::uint64_t first = 0) {
  for (std::uint64_t from = first;; from += kStreamPage) {
    auto page = store.read_stream(stream, es::Direction::kForward, from, kStreamPage);
    if (!page.ok()) return page.status();
    for (const es::RecordedEvent& e : *page) {
      if (e.recorded_at_us > until) {
        folded.next_at = e.recorded_at_us;
        return es::Status::ok_status();
      }
      auto payload = d::decode_payload(e.payload);
      if (!payload.ok()) {
        return es::Status::corruption("position " + std::to_string(e.position) + " (" + stream + " version " +
                                      std::to_string(e.version) + "): " + payload.error().message);
      }
      d::evolve(state, payload.value(), e.recorded_at_us);
      ++folded.events;
      folded.version = e.version;
      folded.position = e.position;
      folded.at = e.recorded_at_us;
    }
    if (page->size() < kStreamPage) return es::Status::ok_status();
  }
}

constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

// Names for ids (users' emails, providers' and organizations' names), folded from
// their streams once each. Providers and organizations start from the engine's
// snapshot when there is one: a name is a convenience of the display, and a long
// stream would otherwise be replayed for it. (`state` never uses snapshots: it
// replays the log.)
class Names {
 public:
  explicit Names(es::EventStore& store) : store_(store) {}

  std::optional<std::string> email(const d::UserId& id) {
    return lookup<d::UserState>(emails_, id, d::user_stream(id),
                                [](const d::UserState& s) { return s.email; });
  }
  std::optional<std::string> provider(const d::ProviderId& id) {
    return lookup<d::ProviderState>(providers_, id, d::provider_stream(id),
                                    [](const d::ProviderState& s) { return s.name; });
  }
  std::optional<std::string> organization(const d::OrganizationId& id) {
    return lookup<d::OrganizationState>(organizations_, id, d::organization_stream(id),
                                        [](const d::OrganizationState& s) { return s.name; });
  }

 private:
  using Cache = std::unordered_map<d::Uuid, std::optional<std::string>>;

  // Starts state from the stream's snapshot; returns the first version to fold.
  template <class State>
  std::uint64_t from_snapshot(const std::string& stream, State& state) {
    if constexpr (std::is_same_v<State, d::ProviderState> || std::is_same_v<State, d::OrganizationState>) {
      auto snapshot = store_.read_snapshot(stream);
      if (!snapshot.ok() || !snapshot.value()) return 0;
      auto decoded = [&] {
        if constexpr (std::is_same_v<State, d::ProviderState>) {
          return d::decode_provider_snapshot((*snapshot.value()).bytes);
        } else {
          return d::decode_organization_snapshot((*snapshot.value()).bytes);
        }
      }();
      if (!decoded.ok()) return 0;
      state = std::move(decoded.value());
      return (*snapshot.value()).version + 1;
    } else {
      (void)stream;
      (void)state;
      return 0;
    }
  }

  template <class State, class Pick>
  std::optional<std::string> lookup(Cache& cache, const d::Uuid& id, const std::string& stream, Pick pick) {
    if (id.is_nil()) return std::nullopt;
    if (auto it = cache.find(id); it != cache.end()) return it->second;
    State state;
    const std::uint64_t first = from_snapshot(stream, state);
    Folded folded;
    std::optional<std::string> name;
    // A name is a convenience: an unreadable stream leaves it empty (verify reports it).
    if (fold_stream(store_, stream, kForever, state, folded, first).ok() && (first > 0 || folded.events > 0))
      name = pick(state);
    cache.emplace(id, name);
    return name;
  }

  es::EventStore& store_;
  Cache emails_, providers_, organizations_;
};

Value text_or_null(const std::optional<std::string>& s) {
  return s ? Value(*s) : Value();
}

Value id_value(const d::Uuid& id) {
  return id.is_nil() ? Value() : Value(id.to_string());
}

const char* acting_as_word(std::int8_t acting_as) {
  switch (static_cast<d::ActingAs>(acting_as)) {
    case d::ActingAs::kDirect: return "direct";
    case d::ActingAs::kProviderUser: return "providerUser";
    case d::ActingAs::kStaff: return "staff";
    case d::ActingAs::kSystem: return "system";
  }
  return "unknown";
}

// A note on stderr when a read model has not folded in the whole log.
void warn_if_behind(const Args& args, const pj::ProjectionDb& db, std::string_view name,
                    std::uint64_t last_position) {
  const auto gen = db.serving(name);
  if (!gen) return;
  const std::uint64_t at = db.checkpoint(name, gen->number);
  if (at < last_position) {
    std::fprintf(stderr,
                 "portalctl %s: note: the %s read model is at position %s of %s; the newest %s events are "
                 "not shown yet (portald catches up while it runs; 'portalctl rebuild %s' does it now).\n",
                 args.spec->name, std::string(name).c_str(), group_digits(at).c_str(),
                 group_digits(last_position).c_str(), group_digits(last_position - at).c_str(),
                 std::string(name).c_str());
  }
}

// ---------------------------------------------------------------------------
// portalctl audit

int run_audit(const Args& args) {
  int code = kOk;
  std::optional<pj::AuditBy> by;
  std::string by_flag;
  for (const auto& [flag, kind] :
       {std::pair{"--org", pj::AuditBy::kOrganization}, std::pair{"--provider", pj::AuditBy::kProvider},
        std::pair{"--actor", pj::AuditBy::kActor}, std::pair{"--item", pj::AuditBy::kItem}}) {
    if (!args.value(flag)) continue;
    if (by)
      return usage_error(args.spec, "give only one of --org, --provider, --actor, --item (got " + by_flag +
                                        " and " + flag + ")");
    by = kind;
    by_flag = flag;
  }
  if (!by) return usage_error(args.spec, "missing --org, --provider, --actor or --item");
  const auto id = id_option(args, by_flag, code);
  if (!id) return code;
  pj::AuditQuery query;
  query.by = *by;
  query.id = *id;
  query.limit = kAuditPage;
  if (args.value("--from")) {
    auto from = instant_option(args, "--from", code);
    if (!from) return code;
    query.from = *from;
  }
  if (args.value("--to")) {
    auto to = instant_option(args, "--to", code);
    if (!to) return code;
    // Inclusive: up to and with T; a date alone includes its whole day.
    query.to = is_date_only(*args.value("--to")) ? *to + kMicrosPerDay : *to + 1;
  }
  if (query.to <= query.from) return usage_error(args.spec, "--to is before --from");
  const auto format = format_option(args, code);
  if (!format) return code;
  if (const std::string* size = args.value("--page-size")) {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(size->data(), size->data() + size->size(), n);
    if (ec != std::errc() || end != size->data() + size->size() || n == 0 || n > 100'000) {
      return usage_error(args.spec, "--page-size '" + *size + "' is not a number from 1 to 100000");
    }
    query.limit = n;
  }

  auto db = open_projections(args, /*read_only=*/true, code);
  if (!db) return code;
  auto store = open_store(args, code);
  if (!store) return code;
  if (!db->serving(pj::AuditLogProjection::kName)) {
    return failure(args.spec, "the audit read model has not been built in " +
                                  (fs::path(args.data_dir) / "projections").string() +
                                  ": start portald once, or run 'portalctl rebuild audit'.");
  }
  warn_if_behind(args, *db, pj::AuditLogProjection::kName, store->last_position());

  Names names(*store);
  RowPrinter out(stdout, *format,
                 {{"date", "DATE", 24},
                  {"type", "CODE", 4},
                  {"event", "EVENT", 30},
                  {"actingUserId", "ACTING USER ID", 36},
                  {"actingUserEmail", "ACTOR", 24},
                  {"actingAs", "ACTING AS", 9},
                  {"providerId", "PROVIDER", 36},
                  {"organizationId", "ORGANIZATION", 36},
                  {"providerOrganizationId", "PROVIDER ORGANIZATION", 36},
                  {"providerUserId", "PROVIDER USER", 36},
                  {"organizationUserId", "ORGANIZATION USER", 36},
                  {"cipherId", "CIPHER", 36},
                  {"collectionId", "COLLECTION", 36},
                  {"groupId", "GROUP", 36},
                  {"policyType", "POLICY", 6},
                  {"deviceType", "DEVICE", 6},
                  {"ipAddress", "IP ADDRESS", 15},
                  {"position", "POSITION", 8}});
  out.set_table_columns(
      {"date", "type", "event", "actingUserEmail", "actingAs", "organizationId", "position"});
  while (true) {
    auto page = pj::query_audit(*db, query);
    if (!page.ok()) {
      out.finish();
      return failure(args.spec, "reading the audit log failed: " + page.status().to_string() +
                                    ". Run 'portalctl verify', then 'portalctl rebuild audit'.");
    }
    for (const pj::AuditEntry& e : page->entries) {
      std::string acting_as = acting_as_word(e.acting_as);
      std::optional<std::string> email = names.email(e.acting_user_id);
      if (*format == Format::kTable) {
        // Tables name the actor and, for provider users, the provider they acted through.
        if (!email && !e.acting_user_id.is_nil()) email = e.acting_user_id.to_string();
        if (!email && e.acting_user_id.is_nil()) email = "(system)";
        if (static_cast<d::ActingAs>(e.acting_as) == d::ActingAs::kProviderUser && !e.provider_id.is_nil()) {
          acting_as = names.provider(e.provider_id).value_or(e.provider_id.to_string()) + " (provider)";
        }
      }
      out.row({format_instant(e.date), e.type == 0 ? Value() : Value(std::int64_t{e.type}), e.name,
               id_value(e.acting_user_id), text_or_null(email), acting_as, id_value(e.provider_id),
               id_value(e.organization_id), id_value(e.provider_organization_id),
               id_value(e.provider_user_id), id_value(e.organization_user_id), id_value(e.cipher_id),
               id_value(e.collection_id), id_value(e.group_id),
               e.policy_type < 0 ? Value() : Value(std::int64_t{e.policy_type}), std::int64_t{e.device_type},
               e.ip_address.empty() ? Value() : Value(e.ip_address), static_cast<std::int64_t>(e.position)});
    }
    out.flush();
    if (page->continuation.empty()) break;
    query.continuation = page->continuation;
  }
  out.finish();
  return kOk;
}

// ---------------------------------------------------------------------------
// portalctl state

template <class State>
int print_state(const Args& args, es::EventStore& store, const std::string& stream, std::int64_t at) {
  State state;
  Folded folded;
  if (auto s = fold_stream(store, stream, at, state, folded); !s.ok()) {
    return failure(args.spec, "replaying " + stream + " failed: " + s.to_string() +
                                  ". Run 'portalctl verify' and restore the store from a backup if a record "
                                  "is damaged.");
  }
  if (folded.events == 0) {
    if (folded.next_at) {
      return failure(args.spec, "stream " + stream + " did not exist yet at " + format_instant(at) +
                                    " (its first event is at " + format_instant(*folded.next_at) + ").");
    }
    return failure(args.spec, "no such stream: " + stream +
                                  " has no events. Stream names look like provider-ID, org-ID, user-ID, "
                                  "item-ID or email-HASH.");
  }
  JsonWriter j(/*pretty=*/true);
  j.begin_object();
  j.field("stream", stream);
  j.field("at", at == kForever ? std::string("now") : format_instant(at));
  j.field("version", static_cast<std::int64_t>(folded.version));
  j.field("position", static_cast<std::int64_t>(folded.position));
  j.field("events", static_cast<std::int64_t>(folded.events));
  j.field("lastEventDate", format_instant(folded.at));
  j.key("state");
  write_state(j, state);
  j.end_object();
  std::fputs(j.str().c_str(), stdout);
  std::fputc('\n', stdout);
  return kOk;
}

int run_state(const Args& args) {
  int code = kOk;
  if (args.positionals.empty()) return usage_error(args.spec, "missing STREAM (such as org-ID)");
  if (args.positionals.size() > 1)
    return usage_error(args.spec, "give one STREAM (got " + std::to_string(args.positionals.size()) + ")");
  const std::string& stream = args.positionals[0];
  std::int64_t at = kForever;
  if (args.value("--at")) {
    auto t = instant_option(args, "--at", code);
    if (!t) return code;
    at = *t;
  }
  const auto dash = stream.find('-');
  const std::string category = dash == std::string::npos ? "" : stream.substr(0, dash);
  const std::string rest = dash == std::string::npos ? "" : stream.substr(dash + 1);
  const bool uuid_stream =
      category == "provider" || category == "org" || category == "user" || category == "item";
  if (!(uuid_stream || category == "email") || (uuid_stream && !d::Uuid::parse(rest)) || rest.empty()) {
    return usage_error(args.spec, "'" + stream +
                                      "' is not a stream name (provider-ID, org-ID, user-ID, item-ID "
                                      "or email-HASH)");
  }
  auto store = open_store(args, code);
  if (!store) return code;
  // Streams are named with the canonical lower-case id.
  const std::string name = uuid_stream ? category + "-" + d::Uuid::parse(rest)->to_string() : stream;
  if (category == "provider") return print_state<d::ProviderState>(args, *store, name, at);
  if (category == "org") return print_state<d::OrganizationState>(args, *store, name, at);
  if (category == "user") return print_state<d::UserState>(args, *store, name, at);
  if (category == "item") return print_state<d::ItemState>(args, *store, name, at);
  return print_state<d::EmailState>(args, *store, name, at);
}

// ---------------------------------------------------------------------------
// portalctl who-administered

int run_who(const Args& args) {
  int code = kOk;
  std::string by;
  for (const char* flag : {"--org", "--provider", "--actor"}) {
    if (!args.value(flag)) continue;
    if (!by.empty())
      return usage_error(args.spec,
                         "give only one of --org, --provider, --actor (got " + by + " and " + flag + ")");
    by = flag;
  }
  if (by.empty()) return usage_error(args.spec, "missing --org, --provider or --actor");
  if (args.value("--at") && by != "--org") return usage_error(args.spec, "--at goes with --org only");
  const auto id = id_option(args, by, code);
  if (!id) return code;
  std::optional<std::int64_t> at;
  if (args.value("--at")) {
    at = instant_option(args, "--at", code);
    if (!at) return code;
  }
  const auto format = format_option(args, code);
  if (!format) return code;

  auto db = open_projections(args, /*read_only=*/true, code);
  if (!db) return code;
  auto store = open_store(args, code);
  if (!store) return code;
  if (!db->serving(pj::AdminHistoryProjection::kName)) {
    return failure(args.spec, "the admin-history read model has not been built in " +
                                  (fs::path(args.data_dir) / "projections").string() +
                                  ": start portald once, or run 'portalctl rebuild admin-history'.");
  }
  warn_if_behind(args, *db, pj::AdminHistoryProjection::kName, store->last_position());
  Names names(*store);

  if (by == "--org") {
    std::vector<pj::AccessInterval> intervals =
        at ? pj::administrators_at(*db, *id, *at) : pj::access_history(*db, *id);
    std::stable_sort(intervals.begin(), intervals.end(), [](const auto& a, const auto& b) {
      return a.from != b.from ? a.from < b.from : a.user_id < b.user_id;
    });
    RowPrinter out(stdout, *format,
                   {{"userId", "USER ID", 36},
                    {"userEmail", "EMAIL", 0},
                    {"access", "ACCESS", 0},
                    {"from", "FROM", 0},
                    {"until", "UNTIL", 0}});
    for (const auto& i : intervals) {
      out.row({i.user_id.to_string(), text_or_null(names.email(i.user_id)),
               std::string(pj::to_string(i.kind)), format_instant(i.from),
               i.until == kForever ? (*format == Format::kTable ? Value("(still)") : Value())
                                   : format_instant(i.until)});
    }
    out.finish();
    return kOk;
  }

  const bool by_provider = by == "--provider";
  const std::vector<pj::Acted> acted =
      by_provider ? pj::acted_for_provider(*db, *id) : pj::acted_by_user(*db, *id);
  std::vector<Column> columns;
  if (by_provider) {
    columns = {{"organizationId", "ORGANIZATION ID", 36},
               {"organizationName", "CLIENT", 0},
               {"userId", "USER ID", 36},
               {"userEmail", "EMAIL", 0}};
  } else {
    columns = {{"providerId", "PROVIDER ID", 36},
               {"providerName", "PROVIDER", 0},
               {"organizationId", "ORGANIZATION ID", 36},
               {"organizationName", "CLIENT", 0}};
  }
  for (Column c : {Column{"commands", "COMMANDS", 0}, Column{"first", "FIRST", 0}, Column{"last", "LAST", 0},
                   Column{"lastAction", "LAST ACTION", 0}}) {
    columns.push_back(c);
  }
  RowPrinter out(stdout, *format, std::move(columns));
  for (const auto& a : acted) {
    std::vector<Value> row;
    if (by_provider) {
      row = {a.organization_id.to_string(), text_or_null(names.organization(a.organization_id)),
             a.user_id.to_string(), text_or_null(names.email(a.user_id))};
    } else {
      row = {a.provider_id.to_string(), text_or_null(names.provider(a.provider_id)),
             a.organization_id.to_string(), text_or_null(names.organization(a.organization_id))};
    }
    row.push_back(static_cast<std::int64_t>(a.commands));
    row.push_back(format_instant(a.first));
    row.push_back(format_instant(a.last));
    row.push_back(a.last_action);
    out.row(row);
  }
  out.finish();
  return kOk;
}

// ---------------------------------------------------------------------------
// portalctl verify

class Checks {
 public:
  void report(const std::string& name, bool ok, const std::string& detail) {
    ++total_;
    if (!ok) ++failed_;
    std::printf("%-7s %s: %s\n", ok ? "ok" : "FAILED", name.c_str(), detail.c_str());
    std::fflush(stdout);
  }
  int summary() const {
    if (failed_ == 0) {
      std::printf("verify: all %d checks passed\n", total_);
      return kOk;
    }
    std::printf("verify: %d of %d checks FAILED\n", failed_, total_);
    return kFinding;
  }

 private:
  int total_ = 0, failed_ = 0;
};

// Problems of one check: the first few in full, then a count.
class Problems {
 public:
  void add(std::string p) {
    if (list_.size() < kShown) list_.push_back(std::move(p));
    ++count_;
  }
  bool empty() const { return count_ == 0; }
  std::string describe() const {
    std::string out = group_digits(count_) + (count_ == 1 ? " problem: " : " problems: ");
    for (std::size_t i = 0; i < list_.size(); ++i) out += (i ? "; " : "") + list_[i];
    if (count_ > list_.size()) out += "; ...";
    return out;
  }

 private:
  static constexpr std::size_t kShown = 10;
  std::vector<std::string> list_;
  std::uint64_t count_ = 0;
};

// What the audit log must hold for each position of the log: a hash of the entry
// AuditLogProjection makes of that event (0: the record could not be read), so
// that every audit index row can be checked against the log in one pass.
using ExpectedEntries = std::vector<std::size_t>;

std::size_t entry_hash(std::string_view encoded) {
  const std::size_t h = std::hash<std::string_view>{}(encoded);
  return h == 0 ? 1 : h;
}

ExpectedEntries verify_log(es::RocksDbEventStore& store, Checks& checks) {
  const std::uint64_t last = store.last_position();
  ExpectedEntries expected_entries(last + 1, 0);
  Problems records, index;
  std::uint64_t count = 0, entries = 0;
  std::unordered_map<std::string, std::uint64_t> next_version;  // per stream
  struct Probe {
    std::uint64_t position;
    std::string stream;
    std::uint64_t version;
  };
  std::uint64_t next = 1;
  while (next <= last) {
    std::vector<Probe> probes;
    std::uint64_t expected = next;
    auto s = store.scan_all(next, 4096, [&](const es::RocksDbEventStore::RecordView& v) {
      if (v.position != expected) {
        records.add("positions jump from " + std::to_string(expected - 1) + " to " +
                    std::to_string(v.position));
      }
      expected = v.position + 1;
      ++count;
      auto payload = d::decode_payload(v.payload);
      auto actor = d::decode_actor(v.metadata);
      if (!payload.ok()) {
        records.add("position " + std::to_string(v.position) + ": the payload does not decode (" +
                    payload.error().message + ")");
      } else if (!actor.ok()) {
        records.add("position " + std::to_string(v.position) + ": the actor does not decode (" +
                    actor.error().message + ")");
      } else if (v.position <= last) {
        pj::ProjectedEvent e;
        e.position = v.position;
        e.set_stream(v.stream);
        e.version = v.version;
        e.type = v.type;
        e.code = v.type_code;
        e.at = v.recorded_at_us;
        e.command_id = v.command_id;
        e.payload = &payload.value();
        e.actor = &actor.value();
        expected_entries[v.position] = entry_hash(pj::AuditLogProjection::entry_of(e).encode());
      }
      probes.push_back({v.position, std::string(v.stream), v.version});
      return true;
    });
    if (!s.ok()) {
      records.add("position " + std::to_string(expected) + ": " + s.to_string());
      next = expected + 1;  // go on after the bad record
    } else if (probes.empty()) {
      records.add("the log ends at position " + std::to_string(expected - 1) + " but its last position is " +
                  std::to_string(last));
      break;
    } else {
      next = expected;
    }
    for (const Probe& p : probes) {
      ++entries;
      auto& want = next_version[p.stream];
      if (p.version != want) {
        index.add(p.stream + ": version " + std::to_string(p.version) + " at position " +
                  std::to_string(p.position) + " where version " + std::to_string(want) + " was due");
      }
      want = p.version + 1;
      auto read = store.read_stream(p.stream, es::Direction::kForward, p.version, 1);
      if (!read.ok()) {
        index.add(p.stream + " version " + std::to_string(p.version) + ": " + read.status().to_string());
      } else if (read->size() != 1 || read->front().position != p.position) {
        index.add(
            p.stream + " version " + std::to_string(p.version) + ": the index points at " +
            (read->empty() ? std::string("nothing") : "position " + std::to_string(read->front().position)) +
            ", the log has it at position " + std::to_string(p.position));
      }
    }
  }
  for (const auto& [stream, want] : next_version) {
    auto head = store.stream_head(stream);
    if (!head.ok()) {
      index.add(stream + ": reading its head failed: " + head.status().to_string());
    } else if (!head.value() || *head.value() != want - 1) {
      index.add(stream + ": the head says version " +
                (head.value() ? std::to_string(*head.value()) : std::string("none")) + ", the log ends at " +
                std::to_string(want - 1));
    }
  }
  checks.report("records", records.empty(),
                records.empty()
                    ? group_digits(count) + " records verify (positions 1.." + group_digits(last) + ")"
                    : records.describe());
  checks.report("streams index", index.empty(),
                index.empty() ? group_digits(entries) + " entries in " + group_digits(next_version.size()) +
                                    " streams match the log; versions contiguous; heads match"
                              : index.describe());
  return expected_entries;
}

void verify_checkpoints(const pj::ProjectionDb& db, std::uint64_t last, Checks& checks) {
  for (const auto& p : engine_projections()) {
    const std::string name(p->name());
    Problems problems;
    std::string detail;
    const auto serving = db.serving(name);
    if (!serving) {
      problems.add("no serving generation: start portald once or run 'portalctl rebuild " + name + "'");
    } else {
      const std::uint64_t at = db.checkpoint(name, serving->number);
      if (at > last) {
        problems.add("generation " + std::to_string(serving->number) + " is at position " + group_digits(at) +
                     ", past the log's last position " + group_digits(last));
      }
      if (serving->version != p->version()) {
        problems.add("generation " + std::to_string(serving->number) + " has version " +
                     std::to_string(serving->version) + ", this portalctl builds version " +
                     std::to_string(p->version()) + ": run 'portalctl rebuild " + name + "'");
      }
      detail = "generation " + std::to_string(serving->number) + " at position " + group_digits(at) + " of " +
               group_digits(last);
      if (at < last) detail += " (" + group_digits(last - at) + " behind)";
    }
    if (const auto building = db.building(name)) {
      const std::uint64_t at = db.checkpoint(name, building->number);
      if (at > last) {
        problems.add("rebuild generation " + std::to_string(building->number) + " is at position " +
                     group_digits(at) + ", past the log's last position " + group_digits(last));
      }
      detail += "; an unfinished rebuild (generation " + std::to_string(building->number) +
                ") is at position " + group_digits(at);
    }
    checks.report("checkpoint " + name, problems.empty(), problems.empty() ? detail : problems.describe());
  }
}

// The audit read model's rows (projections/audit_log.h): 'o'|'p'|'a'|'i' id(16)
// time(8, sign bit flipped) position(8) -> the encoded entry.
std::uint64_t be64(std::string_view b) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(b[i]);
  return v;
}

void verify_audit_index(const pj::ProjectionDb& db, const ExpectedEntries& expected, Checks& checks) {
  const auto gen = db.serving(pj::AuditLogProjection::kName);
  if (!gen) {
    checks.report("audit index", false, "no serving generation of the audit read model");
    return;
  }
  const std::uint64_t checkpoint = db.checkpoint(pj::AuditLogProjection::kName, gen->number);
  Problems problems;
  std::uint64_t entries = 0, members = 0;
  // Per position and index (o, p, a, i): what the entry says its member must be
  // (a hash of subject and time; 0: in no such index), then 1 once listed.
  constexpr char kTags[] = {'o', 'p', 'a', 'i'};
  std::vector<std::array<std::size_t, 4>> listed(expected.size(), std::array<std::size_t, 4>{});
  auto member_hash = [](std::string_view list, std::int64_t at) {
    const std::size_t h = std::hash<std::string>{}(std::string(list) + std::to_string(at));
    return h <= 1 ? 2 : h;
  };
  db.scan(pj::AuditLogProjection::kName, gen->number, "E", [&](std::string_view key, std::string_view value) {
    ++entries;
    if (key.size() != 1 + 8) {
      problems.add("audit entry with a key of " + std::to_string(key.size()) + " bytes");
      return true;
    }
    const std::uint64_t position = be64(key.substr(1));
    const std::string where = "audit entry at position " + std::to_string(position);
    if (position == 0 || position >= expected.size() || position > checkpoint) {
      problems.add(where + ": the log has no such event" +
                   (position > checkpoint ? " folded in (checkpoint " + std::to_string(checkpoint) + ")"
                                          : std::string()));
      return true;
    }
    const auto entry = pj::AuditEntry::decode(value);
    if (!entry) {
      problems.add(where + ": the entry does not decode");
      return true;
    }
    if (entry->position != position) {
      problems.add(where + ": the entry is filed under the wrong key");
    } else if (expected[position] != 0 && entry_hash(value) != expected[position]) {
      problems.add(where + ": the entry differs from the event in the log");
    }
    const d::Uuid* subjects[] = {&entry->organization_id, &entry->provider_id, &entry->acting_user_id,
                                 &entry->cipher_id};
    for (std::size_t t = 0; t < 4; ++t) {
      if (subjects[t]->is_nil()) continue;
      std::string list(1, kTags[t]);
      list.append(reinterpret_cast<const char*>(subjects[t]->bytes.data()), 16);
      listed[position][t] = member_hash(list, entry->date);
    }
    return true;
  });
  for (std::size_t t = 0; t < 4; ++t) {
    const es::Status s = db.scan_lists(
        pj::AuditLogProjection::kName, gen->number, std::string(1, kTags[t]),
        [&](std::string_view list, std::string_view member) {
          ++members;
          d::Uuid id;
          for (std::size_t i = 0; i < 16 && i + 1 < list.size(); ++i) {
            id.bytes[i] = static_cast<std::uint8_t>(list[1 + i]);
          }
          const std::string shown = std::string(1, kTags[t]) + " index entry for " + id.to_string();
          if (list.size() != 1 + 16 || member.size() != 8 + 8) {
            problems.add(shown + " of " + std::to_string(list.size() + member.size()) + " bytes");
            return true;
          }
          const std::uint64_t position = be64(member.substr(8));
          const std::string where = shown + " at position " + std::to_string(position);
          if (position == 0 || position >= listed.size() || listed[position][t] == 0) {
            problems.add(where + ": no audit entry of that position is filed under it");
          } else if (listed[position][t] !=
                     member_hash(list, static_cast<std::int64_t>(be64(member) ^ (std::uint64_t{1} << 63)))) {
            problems.add(where + ": the entry of that position has another subject or time");
          } else {
            listed[position][t] = 1;
          }
          return true;
        });
    if (!s.ok()) problems.add(s.message());
  }
  for (std::size_t position = 0; position < listed.size(); ++position) {
    for (std::size_t t = 0; t < 4; ++t) {
      if (listed[position][t] > 1) {
        problems.add("audit entry at position " + std::to_string(position) + ": missing from the " +
                     std::string(1, kTags[t]) + " index");
      }
    }
  }
  checks.report("audit index", problems.empty(),
                problems.empty() ? group_digits(entries) + " entries and " + group_digits(members) +
                                       " index entries match their events in the log"
                                 : problems.describe());
}

// A temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "portalctl-verify-XXXXXX").string();
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void verify_rebuilds(es::RocksDbEventStore& store, const pj::ProjectionDb& db, Checks& checks) {
  for (auto& model : engine_projections()) {
    const std::string name(model->name());
    const std::string check = "rebuild " + name;
    const auto serving = db.serving(name);
    if (!serving) {
      checks.report(check, false, "no serving generation to compare with");
      continue;
    }
    const std::uint64_t at = db.checkpoint(name, serving->number);
    TempDir tmp;
    if (tmp.path().empty()) {
      checks.report(check, false,
                    "cannot create a temporary directory in " + fs::temp_directory_path().string() +
                        "; set TMPDIR to a writable directory");
      continue;
    }
    auto fresh_db = pj::ProjectionDb::open(tmp.path());
    if (!fresh_db.ok()) {
      checks.report(check, false, "cannot create a scratch database: " + fresh_db.status().to_string());
      continue;
    }
    std::vector<std::unique_ptr<pj::Projection>> one;
    one.push_back(std::move(model));
    auto runner = pj::Runner::create(store, **fresh_db, std::move(one));
    if (!runner.ok()) {
      checks.report(check, false, "cannot start the rebuild: " + runner.status().to_string());
      continue;
    }
    if (auto s = (*runner)->catch_up({}, at); !s.ok()) {
      checks.report(check, false, "the rebuild failed: " + s.to_string());
      continue;
    }
    const auto status = (*runner)->status(name);
    if (status && status->failure) {
      checks.report(check, false, "the rebuild stopped at " + *status->failure);
      continue;
    }
    const std::uint64_t reached = status ? status->checkpoint : 0;
    const std::string fresh = (*fresh_db)->digest(name, status ? status->generation : 1);
    const std::string served = db.digest(name, serving->number);
    const std::uint64_t fresh_rows = (*fresh_db)->row_count(name, status ? status->generation : 1);
    const std::uint64_t served_rows = db.row_count(name, serving->number);
    if (reached != at) {
      checks.report(check, false,
                    "the rebuild reached position " + group_digits(reached) +
                        ", not the serving "
                        "checkpoint " +
                        group_digits(at));
    } else if (fresh != served) {
      checks.report(check, false,
                    "the serving generation " + std::to_string(serving->number) + " (" +
                        group_digits(served_rows) + " rows, digest " + served.substr(0, 16) +
                        ") differs from a fresh rebuild (" + group_digits(fresh_rows) + " rows, digest " +
                        fresh.substr(0, 16) + ") up to position " + group_digits(at) +
                        ": run 'portalctl rebuild " + name + "'");
    } else {
      checks.report(check, true,
                    "a fresh rebuild up to position " + group_digits(at) + " equals generation " +
                        std::to_string(serving->number) + " (" + group_digits(served_rows) +
                        " rows, digest " + served.substr(0, 16) + ")");
    }
  }
}

int run_verify(const Args& args) {
  int code = kOk;
  // The read models first: what they folded is then never past the log opened after.
  auto db = open_projections(args, /*read_only=*/true, code);
  if (!db) return code;
  auto store = open_store(args, code);
  if (!store) return code;
  Checks checks;
  const ExpectedEntries expected = verify_log(*store, checks);
  verify_checkpoints(*db, store->last_position(), checks);
  verify_audit_index(*db, expected, checks);
  verify_rebuilds(*store, *db, checks);
  return checks.summary();
}

// ---------------------------------------------------------------------------
// portalctl rebuild

std::string seconds_text(double s) {
  if (s < 60) return std::to_string(static_cast<long long>(s + 0.5)) + "s";
  const auto total = static_cast<long long>(s + 0.5);
  if (total < 3600) return std::to_string(total / 60) + "m" + std::to_string(total % 60) + "s";
  return std::to_string(total / 3600) + "h" + std::to_string(total / 60 % 60) + "m";
}

int run_rebuild(const Args& args) {
  const bool all = args.flag("--all");
  if (all && !args.positionals.empty()) return usage_error(args.spec, "give --all or names, not both");
  if (!all && args.positionals.empty())
    return usage_error(args.spec,
                       "name the read models to rebuild (" + known_projection_names() + ") or give --all");
  for (const auto& n : args.positionals) {
    auto models = engine_projections();
    if (std::none_of(models.begin(), models.end(), [&](const auto& p) { return p->name() == n; })) {
      return usage_error(args.spec,
                         "unknown read model '" + n + "' (known: " + known_projection_names() + ")");
    }
  }
  int code = kOk;
  auto store = open_store(args, code);
  if (!store) return code;
  auto db = open_projections(args, /*read_only=*/false, code);
  if (!db) return code;
  auto runner = pj::Runner::create(*store, *db, engine_projections());
  if (!runner.ok()) {
    return failure(args.spec, "cannot set up the read models: " + runner.status().to_string() +
                                  ". Check that the data directory is writable.");
  }
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  std::uint64_t total = 0;
  const auto started = std::chrono::steady_clock::now();
  pj::ProgressFn progress = [&](const pj::Progress& p) {
    total = p.total;
    if (!terminal) return;
    const double percent =
        p.total ? 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total) : 100.0;
    std::fprintf(stderr, "\rrebuild: %s / %s events (%.1f%%), %s events/s, %s left\x1b[K",
                 group_digits(p.done).c_str(), group_digits(p.total).c_str(), percent,
                 group_digits(static_cast<std::uint64_t>(p.rate)).c_str(),
                 seconds_text(p.seconds_left).c_str());
    std::fflush(stderr);
  };
  const es::Status s = (*runner)->rebuild(args.positionals, progress);
  if (terminal) std::fputs("\n", stderr);
  if (!s.ok()) {
    return failure(args.spec, "the rebuild failed: " + s.to_string() +
                                  ". The serving read models are unchanged; run 'portalctl verify', fix the "
                                  "cause and run the rebuild again (it resumes where it stopped).");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string rebuilt;
  for (const auto& st : (*runner)->status()) {
    if (!all &&
        std::find(args.positionals.begin(), args.positionals.end(), st.name) == args.positionals.end())
      continue;
    rebuilt +=
        (rebuilt.empty() ? "" : ", ") + st.name + " (generation " + std::to_string(st.generation) + ")";
  }
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.1fs", secs);
  std::printf(
      "rebuild: %s rebuilt from %s events in %s (%s events/s)\n", rebuilt.c_str(),
      group_digits(total ? total : store->last_position()).c_str(), rate,
      group_digits(secs > 0 ? static_cast<std::uint64_t>(static_cast<double>(store->last_position()) / secs)
                            : 0)
          .c_str());
  return kOk;
}

// ---------------------------------------------------------------------------
// portalctl token

// "90", "90s", "15m", "12h", "7d": seconds; nullopt when malformed or out of range.
std::optional<long> parse_ttl(std::string_view text) {
  long unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: unit = 0; break;
    }
    if (unit != 0) text.remove_suffix(1);
    unit = std::max(unit, 1L);
  }
  long n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  constexpr long kMaxSeconds = 3650L * 86400;  // ten years
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n <= 0 ||
      n > kMaxSeconds / unit) {
    return std::nullopt;
  }
  return n * unit;
}

// A secret as portald takes it: surrounding whitespace (an editor's or echo's
// newline) is not part of it, and it has at least 32 bytes.
std::optional<std::string> checked_secret(const Args& args, std::string secret, const std::string& source,
                                          int& exit_code) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!secret.empty() && space(static_cast<unsigned char>(secret.back()))) secret.pop_back();
  secret.erase(secret.begin(), std::find_if_not(secret.begin(), secret.end(), space));
  if (secret.size() < 32) {
    exit_code = failure(args.spec, "the HS256 secret from " + source +
                                       " is shorter than 32 bytes (portald refuses it); generate one with "
                                       "`openssl rand -hex 32`");
    return std::nullopt;
  }
  return secret;
}

// The HS256 secret: --secret-file, PORTAL_JWT_SECRET, or DIR/jwt.secret.
std::optional<std::string> jwt_secret(const Args& args, int& exit_code) {
  std::string path;
  if (const std::string* file = args.value("--secret-file")) {
    path = *file;
  } else if (const char* env = std::getenv("PORTAL_JWT_SECRET"); env != nullptr && *env != '\0') {
    return checked_secret(args, env, "PORTAL_JWT_SECRET", exit_code);
  } else {
    path = (fs::path(args.data_dir) / "jwt.secret").string();
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      exit_code =
          failure(args.spec, "no HS256 secret: pass --secret-file FILE, set PORTAL_JWT_SECRET, or create " +
                                 path + " (scripts/run.sh does; or pass --data-dir)");
      return std::nullopt;
    }
  }
  std::ifstream in(path, std::ios::binary);
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) {
    exit_code = failure(
        args.spec, "cannot read the secret file " + path + "; check that it exists and is readable by you");
    return std::nullopt;
  }
  return checked_secret(args, std::move(secret), "the secret file " + path, exit_code);
}

int run_token(const Args& args) {
  if (args.value("--user") == nullptr) return usage_error(args.spec, "missing --user ID");
  int code = kOk;
  const auto user = id_option(args, "--user", code);
  if (!user) return code;
  long ttl = 3600;
  if (const std::string* t = args.value("--ttl")) {
    const auto parsed = parse_ttl(*t);
    if (!parsed) {
      return usage_error(args.spec, "--ttl '" + *t +
                                        "' is not a positive duration such as 3600, 90s, 15m, 12h or 7d "
                                        "(at most 3650d)");
    }
    ttl = *parsed;
  }
  for (const char* flag : {"--email", "--name", "--issuer", "--audience"}) {
    if (const std::string* v = args.value(flag); v != nullptr && v->empty())
      return usage_error(args.spec, std::string(flag) + " needs a value");
  }
  const auto secret = jwt_secret(args, code);
  if (!secret) return code;

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return failure(args.spec, "libjwt could not create a token (out of memory?)");
  const std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, &jwt_free);
  const long now = static_cast<long>(std::time(nullptr));
  const std::string issuer = args.value("--issuer") ? *args.value("--issuer") : "portal-dev";
  const std::string audience = args.value("--audience") ? *args.value("--audience") : "portal";
  int rc = jwt_add_grant(jwt.get(), "sub", user->to_string().c_str());
  if (args.flag("--staff")) rc = rc ? rc : jwt_add_grant_bool(jwt.get(), "staff", 1);
  if (const std::string* email = args.value("--email"))
    rc = rc ? rc : jwt_add_grant(jwt.get(), "email", email->c_str());
  if (const std::string* name = args.value("--name"))
    rc = rc ? rc : jwt_add_grant(jwt.get(), "name", name->c_str());
  rc = rc ? rc : jwt_add_grant(jwt.get(), "iss", issuer.c_str());
  rc = rc ? rc : jwt_add_grant(jwt.get(), "aud", audience.c_str());
  rc = rc ? rc : jwt_add_grant_int(jwt.get(), "iat", now);
  rc = rc ? rc : jwt_add_grant_int(jwt.get(), "nbf", now);
  rc = rc ? rc : jwt_add_grant_int(jwt.get(), "exp", now + ttl);
  rc = rc ? rc
          : jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret->data()),
                        static_cast<int>(secret->size()));
  if (rc != 0)
    return failure(args.spec, "libjwt refused the token's claims (error " + std::to_string(rc) + ")");
  char* encoded = jwt_encode_str(jwt.get());
  if (encoded == nullptr) return failure(args.spec, "libjwt could not sign the token");
  std::printf("%s\n", encoded);
  std::free(encoded);
  return kOk;
}

// ---------------------------------------------------------------------------
// portalctl demo

bool write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

bool mentions_lock(std::string message) {
  std::transform(message.begin(), message.end(), message.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return message.find("lock") != std::string::npos;
}

int run_demo(const Args& args) {
  api::DemoOptions options;
  if (const std::string* v = args.value("--seed")) {
    std::uint64_t seed = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), seed);
    if (ec != std::errc() || end != v->data() + v->size() || seed == 0)
      return usage_error(args.spec, "--seed '" + *v + "' is not a positive integer");
    options.seed = seed;
  }
  EngineOptions engine_options;
  // Demo data is reproducible: a power loss costs a re-run, not data.
  engine_options.durability = es::Durability::kBuffered;
  // The history spans the three weeks before now (inside the event pages' default
  // window of 30 days).
  api::DemoClock history(text::now_micros(), 21 * text::kMicrosPerDay);
  options.history = &history;
  engine_options.clock = [&history] { return history.now(); };
  auto opened = Engine::open(args.data_dir, engine_options);
  if (!opened.ok()) {
    if (mentions_lock(opened.error().message)) {
      return failure(args.spec, "the data directory " + args.data_dir +
                                    " is in use by another process (is portald running on it?). Stop "
                                    "portald, then run 'portalctl demo' again.");
    }
    return failure(args.spec,
                   "cannot open the data directory " + args.data_dir + ": " + opened.error().message);
  }
  Engine& engine = *opened.value();
  const auto loaded = api::load_demo(engine, options);
  if (!loaded.ok()) {
    engine.close();
    return failure(args.spec, loaded.error().message +
                                  " Demo data goes into a fresh data directory (or one that holds this demo "
                                  "with the same seed).");
  }
  const api::DemoSummary& s = loaded.value();
  // The read models catch up before the engine closes, so portald and portalctl's
  // read commands start on a complete picture.
  for (const auto& p : engine_projections()) {
    auto waited = engine.wait_for_projection(p->name(), s.last_position, std::chrono::seconds(120));
    if (!waited.ok()) {
      engine.close();
      return failure(args.spec, "the read model " + std::string(p->name()) +
                                    " did not catch up: " + waited.error().message +
                                    ". The demo's events are stored; run 'portalctl rebuild --all'.");
    }
  }
  engine.close();

  const fs::path json = fs::path(args.data_dir) / "demo.json";
  const fs::path env = fs::path(args.data_dir) / "demo.env";
  if (!write_file_atomically(json, api::demo_summary_json(s)) ||
      !write_file_atomically(env, api::demo_summary_env(s))) {
    return failure(args.spec, "the demo is loaded, but " + json.string() + " or " + env.string() +
                                  " could not be written; check the directory's permissions and space");
  }

  std::size_t members = 0;
  int items = 0;
  for (const auto& c : s.clients) {
    members += c.members.size() + 1;
    items += c.items;
  }
  if (s.recorded > 0) {
    std::printf("demo: loaded into %s (%zu commands)\n", args.data_dir.c_str(), s.recorded);
  } else {
    std::printf("demo: already loaded in %s (nothing new recorded)\n", args.data_dir.c_str());
  }
  auto person = [](const char* role, const api::DemoUser& u) {
    std::printf("  %-9s %s <%s>  user %s\n", role, u.name.c_str(), u.email.c_str(), u.id.to_string().c_str());
  };
  std::printf("  provider  %s  %s\n", s.provider_name.c_str(), s.provider_id.to_string().c_str());
  person("staff", s.staff);
  for (const auto& u : s.admins) person("admin", u);
  for (const auto& u : s.service_users) person("service", u);
  if (!s.clients.empty()) {
    std::printf("  clients   %zu organizations, %zu members, %d items (first: %s  %s)\n", s.clients.size(),
                members, items, s.clients[0].name.c_str(), s.clients[0].organization_id.to_string().c_str());
  }
  std::printf("  wrote %s and %s\n", json.c_str(), env.c_str());
  return kOk;
}

}  // namespace
}  // namespace portal::cli

int main(int argc, char** argv) {
  using namespace portal::cli;
  Args args;
  if (auto done = parse_args(argc, argv, args)) return *done;
  const std::string name = args.spec->name;
  if (name == "audit") return run_audit(args);
  if (name == "state") return run_state(args);
  if (name == "who-administered") return run_who(args);
  if (name == "verify") return run_verify(args);
  if (name == "token") return run_token(args);
  if (name == "demo") return run_demo(args);
  return run_rebuild(args);
}
