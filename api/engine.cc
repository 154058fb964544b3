#include "portal/api/engine.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <new>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>

#include "portal/domain/snapshot.h"
#include "portal/projections/catalog.h"

namespace portal {

namespace {

namespace es = eventstore;
namespace fs = std::filesystem;
using domain::Error;
template <class T>
using Expected = domain::Expected<T>;

constexpr std::size_t kKeyBytes = 32;
using EngineKey = std::array<std::uint8_t, kKeyBytes>;
using Mac = std::array<std::uint8_t, 32>;

// Events per read_stream call on a cold load: large enough that a long stream takes
// few round trips, small enough that a page of copies stays in cache.
constexpr std::size_t kReadPage = 512;

constexpr const char* kConflictMessage = "Concurrent changes kept conflicting; try again.";

// ---------------------------------------------------------------------------
// Store errors as the domain's error kinds, with what the user should do.

// store: the open store the error came from, if any. An I/O error that left it
// healthy was a failed read (the store stops only after a failed write or sync):
// trying again may work.
Error store_error(const es::Status& s, const std::string& doing, const es::EventStore* store = nullptr) {
  const std::string detail = " (" + s.to_string() + ")";
  switch (s.code()) {
    case es::StatusCode::kUnavailable:
      return Error::unavailable("The event store is closed or shutting down while " + doing +
                                "; try again later." + detail);
    case es::StatusCode::kIOError:
      if (store != nullptr && store->health().ok()) {
        return Error::unavailable("The disk failed a read of the event store while " + doing +
                                  "; try again, and repair the disk if it keeps failing." + detail);
      }
      return Error::unavailable("The disk refused the event store while " + doing +
                                "; free space or repair the disk, then reopen the engine (restart portald): "
                                "after a failed write or sync the store takes no more commands until it is "
                                "reopened." +
                                detail);
    case es::StatusCode::kCorruption:
    case es::StatusCode::kNotFound:
      return Error::data_loss("A stored record is damaged or missing, found while " + doing +
                              "; verify the store and restore it from a backup." + detail);
    case es::StatusCode::kInvalidArgument:
      return Error::validation("", "The command cannot be recorded: " + s.message() + ".");
    case es::StatusCode::kWrongExpectedVersion: return Error::aborted(kConflictMessage);
    case es::StatusCode::kFailedPrecondition:
    case es::StatusCode::kOk: break;
  }
  return Error::failed_precondition("The event store refused the command: " + s.message() + ".");
}

// ---------------------------------------------------------------------------
// The engine key: the secret from which command ids derive new ids and tokens.

Error key_io_error(const fs::path& path, const std::string& doing) {
  return Error::unavailable("Cannot " + doing + " the engine key " + path.string() + ": " +
                            std::strerror(errno) + ".");
}

Expected<EngineKey> read_key(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return key_io_error(path, "read");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return key_io_error(path, "read");
  if (bytes.size() != kKeyBytes) {
    return Error::data_loss("The engine key " + path.string() + " holds " + std::to_string(bytes.size()) +
                            " bytes instead of " + std::to_string(kKeyBytes) +
                            ": it is damaged. Restore it from a backup; without it the ids and tokens of "
                            "re-submitted commands cannot be re-derived.");
  }
  EngineKey key;
  std::memcpy(key.data(), bytes.data(), kKeyBytes);
  return key;
}

bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Written to a temporary file, fsynced and renamed into place, so that a crash never
// leaves a short key behind.
Expected<EngineKey> create_key(const fs::path& path) {
  EngineKey key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return Error::unavailable("OpenSSL could not produce random bytes for a new engine key.");
  }
  fs::path tmp = path;
  tmp += ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return key_io_error(tmp, "create");
  const bool written = write_all(fd, key.data(), key.size()) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written) {
    errno = saved_errno;
    return key_io_error(tmp, "write");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return key_io_error(path, "install");
  const int dir_fd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return key;
}

Expected<EngineKey> open_key(const fs::path& path, bool store_has_events) {
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (ec)
    return Error::unavailable("Cannot look for the engine key " + path.string() + ": " + ec.message() + ".");
  if (exists) return read_key(path);
  if (store_has_events) {
    return Error::data_loss("The engine key " + path.string() +
                            " is missing but the store holds events: restore the key from a backup; a new "
                            "one would change the ids and tokens of re-submitted commands.");
  }
  return create_key(path);
}

// HMAC-SHA256 under the engine key (RFC 2104). The key's two padded blocks are
// hashed once, into an inner and an outer SHA-256 state; each MAC copies those
// states and hashes only the message and the inner digest: a third of the cost
// of copying a keyed EVP_MAC context.
class KeyedMac {
 public:
  static Expected<std::unique_ptr<KeyedMac>> create(const EngineKey& key) {
    static_assert(sizeof(EngineKey) <= kBlockBytes, "a key longer than a block would be hashed first");
    std::unique_ptr<KeyedMac> m(new KeyedMac);
    m->sha256_ = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    m->inner_ = EVP_MD_CTX_new();
    m->outer_ = EVP_MD_CTX_new();
    if (m->sha256_ == nullptr || m->inner_ == nullptr || m->outer_ == nullptr ||
        !absorb_pad(m->inner_, m->sha256_, key, 0x36) || !absorb_pad(m->outer_, m->sha256_, key, 0x5c)) {
      return Error::unavailable("OpenSSL could not set up HMAC-SHA256 for the engine key.");
    }
    return m;
  }
  ~KeyedMac() {
    EVP_MD_CTX_free(inner_);
    EVP_MD_CTX_free(outer_);
    EVP_MD_free(sha256_);
  }
  KeyedMac(const KeyedMac&) = delete;
  KeyedMac& operator=(const KeyedMac&) = delete;

  // Thread-safe: the keyed states are only ever copied.
  Mac operator()(std::string_view message) const {
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> work(EVP_MD_CTX_new(),
                                                                              EVP_MD_CTX_free);
    Mac inner{};
    Mac mac{};
    unsigned int len = 0;
    unsigned int outer_len = 0;
    if (!work || EVP_MD_CTX_copy_ex(work.get(), inner_) != 1 ||
        EVP_DigestUpdate(work.get(), message.data(), message.size()) != 1 ||
        EVP_DigestFinal_ex(work.get(), inner.data(), &len) != 1 || len != inner.size() ||
        EVP_MD_CTX_copy_ex(work.get(), outer_) != 1 || EVP_DigestUpdate(work.get(), inner.data(), len) != 1 ||
        EVP_DigestFinal_ex(work.get(), mac.data(), &outer_len) != 1 || outer_len != mac.size()) {
      // Only memory exhaustion gets here; an id or token must never be made up.
      throw std::bad_alloc();
    }
    return mac;
  }

 private:
  static constexpr std::size_t kBlockBytes = 64;  // SHA-256's block

  static bool absorb_pad(EVP_MD_CTX* ctx, EVP_MD* sha256, const EngineKey& key, unsigned char pad) {
    std::array<unsigned char, kBlockBytes> block;
    block.fill(pad);
    for (std::size_t i = 0; i < key.size(); ++i) block[i] ^= static_cast<unsigned char>(key[i]);
    const bool ok = EVP_DigestInit_ex(ctx, sha256, nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, block.data(), block.size()) == 1;
    OPENSSL_cleanse(block.data(), block.size());
    return ok;
  }

  KeyedMac() = default;
  EVP_MD* sha256_ = nullptr;
  EVP_MD_CTX* inner_ = nullptr;
  EVP_MD_CTX* outer_ = nullptr;
};

// The i-th id and token of a command: HMAC-SHA256(key, label || command id || i).
// Deterministic, so a re-submitted command id yields the ids and tokens it had.
class Derivation {
 public:
  Derivation(const KeyedMac& mac, const es::CommandId& command_id) : mac_(mac), command_id_(command_id) {}

  domain::Uuid new_id() {
    const Mac mac = derive("id", ids_++);
    domain::Uuid id;
    std::copy_n(mac.begin(), id.bytes.size(), id.bytes.begin());
    id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0f) | 0x80);  // version 8 (RFC 9562: custom)
    id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return id;
  }

  // base64url without padding of the MAC: 43 characters, 256 bits.
  std::string new_token() {
    const Mac mac = derive("token", tokens_++);
    std::array<unsigned char, 4 * ((sizeof(Mac) + 2) / 3) + 1> b64{};
    const int n = EVP_EncodeBlock(b64.data(), mac.data(), static_cast<int>(mac.size()));
    std::string token(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
    while (!token.empty() && token.back() == '=') token.pop_back();
    for (char& c : token) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
    return token;
  }

 private:
  Mac derive(std::string_view label, std::uint64_t i) const {
    std::string message(label);
    message.append(reinterpret_cast<const char*>(command_id_.bytes.data()), command_id_.bytes.size());
    for (int shift = 56; shift >= 0; shift -= 8) message.push_back(static_cast<char>(i >> shift));
    return mac_(message);
  }

  const KeyedMac& mac_;
  es::CommandId command_id_;
  std::uint64_t ids_ = 0;
  std::uint64_t tokens_ = 0;
};

// ---------------------------------------------------------------------------
// Aggregates: loaded by stream, kept in a bounded cache.

using Aggregate = std::variant<domain::UserState, domain::EmailState, domain::ProviderState,
                               domain::OrganizationState, domain::ItemState>;

// The stream's category decides which aggregate its events fold into.
std::optional<Aggregate> empty_aggregate(std::string_view stream) {
  if (stream.starts_with("user-")) return Aggregate(std::in_place_type<domain::UserState>);
  if (stream.starts_with("email-")) return Aggregate(std::in_place_type<domain::EmailState>);
  if (stream.starts_with("provider-")) return Aggregate(std::in_place_type<domain::ProviderState>);
  if (stream.starts_with("org-")) return Aggregate(std::in_place_type<domain::OrganizationState>);
  if (stream.starts_with("item-")) return Aggregate(std::in_place_type<domain::ItemState>);
  return std::nullopt;
}

void evolve(Aggregate& aggregate, const domain::EventPayload& event, domain::Timestamp at) {
  std::visit([&](auto& state) { domain::evolve(state, event, at); }, aggregate);
}

// The snapshot bytes of an aggregate kept in snapshots (long-lived streams only).
std::optional<std::string> encode_snapshot(const Aggregate& aggregate) {
  if (const auto* p = std::get_if<domain::ProviderState>(&aggregate)) return domain::encode_snapshot(*p);
  if (const auto* o = std::get_if<domain::OrganizationState>(&aggregate)) return domain::encode_snapshot(*o);
  return std::nullopt;
}

// The aggregate a snapshot of `stream` holds, or nullopt when the bytes do not
// decode into one of that very stream (the caller then replays).
std::optional<Aggregate> decode_snapshot(const std::string& stream, std::string_view bytes) {
  if (stream.starts_with("provider-")) {
    auto state = domain::decode_provider_snapshot(bytes);
    if (state.ok() && domain::provider_stream(state->id) == stream) {
      return Aggregate(std::move(state.value()));
    }
  } else if (stream.starts_with("org-")) {
    auto state = domain::decode_organization_snapshot(bytes);
    if (state.ok() && domain::organization_stream(state->id) == stream) {
      return Aggregate(std::move(state.value()));
    }
  }
  return std::nullopt;
}

bool takes_snapshots(std::string_view stream) {
  return stream.starts_with("provider-") || stream.starts_with("org-");
}

// A stream's state and the version of its last event folded in (nullopt: no stream).
struct Loaded {
  std::shared_ptr<const Aggregate> state;
  std::optional<std::uint64_t> version;
  // Version of the stream's latest snapshot as far as this engine knows (nullopt:
  // none, or not looked up because the stream is too short to have one).
  std::optional<std::uint64_t> snapshot_version;
};

// How much a snapshot of the aggregate holds (its users, members, clients, ...):
// the cost of encoding one grows with it.
std::uint64_t snapshot_weight(const Aggregate& aggregate) {
  if (const auto* p = std::get_if<domain::ProviderState>(&aggregate)) return p->users.size() + p->clients.size();
  if (const auto* o = std::get_if<domain::OrganizationState>(&aggregate))
    return o->members.size() + o->collections.size() + o->groups.size();
  return 0;
}

// Whether `a` has seen at least as much of a stream as `b`.
bool at_least(const std::optional<std::uint64_t>& a, const std::optional<std::uint64_t>& b) {
  return !b || (a && *a >= *b);
}

// Sharded so that 64 callers do not queue on one mutex. Entries are immutable and
// shared: a command keeps the states it decided on even if they are replaced.
class AggregateCache {
 public:
  explicit AggregateCache(std::size_t capacity)
      : per_shard_(capacity == 0 ? 0 : std::max<std::size_t>(1, capacity / kShards)) {}

  std::optional<Loaded> get(const std::string& stream) {
    Shard& s = shard(stream);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(stream);
    if (it == s.map.end()) return std::nullopt;
    return it->second;
  }

  // Keeps whichever of the cached entry and `loaded` has seen more of the stream, so
  // that a slow cold load never replaces what a later append put here.
  void put(const std::string& stream, Loaded loaded) {
    if (per_shard_ == 0) return;
    Shard& s = shard(stream);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(stream);
    if (it != s.map.end()) {
      if (at_least(loaded.version, it->second.version)) {
        // A snapshot noted on the entry it replaces stays known.
        if (!at_least(loaded.snapshot_version, it->second.snapshot_version))
          loaded.snapshot_version = it->second.snapshot_version;
        it->second = std::move(loaded);
      }
      return;
    }
    // Evicting an arbitrary entry is enough: a miss costs one cold load.
    if (s.map.size() >= per_shard_) s.map.erase(s.map.begin());
    s.map.emplace(stream, std::move(loaded));
  }

  void erase(const std::string& stream) {
    Shard& s = shard(stream);
    std::lock_guard lock(s.mu);
    s.map.erase(stream);
  }

  // A snapshot of the stream at `version` was written: the cached entry (which may
  // have moved past the state the snapshot was taken of) learns it, so that the
  // next one is due only after as many events again.
  void note_snapshot(const std::string& stream, std::uint64_t version) {
    Shard& s = shard(stream);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(stream);
    if (it != s.map.end() && at_least(it->second.version, version) &&
        !at_least(it->second.snapshot_version, version)) {
      it->second.snapshot_version = version;
    }
  }

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Loaded> map;
  };
  Shard& shard(const std::string& stream) { return shards_[std::hash<std::string>{}(stream) % kShards]; }

  std::size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

class AggregateLoader {
 public:
  using Head = std::optional<std::uint64_t>;  // a stream's last version, if it exists

  AggregateLoader(es::EventStore& store, std::size_t cache_entries, std::uint64_t snapshot_every)
      : store_(store), cache_(cache_entries), snapshot_every_(snapshot_every) {}

  // From the cache, or folded from the store (from the stream's snapshot, if it has
  // one, then the events after it). A cache hit is not checked against the
  // stream's head: the cache follows every append this engine makes, and an append's
  // expected versions catch whatever staleness remains.
  Expected<Loaded> load(const std::string& stream) {
    if (auto hit = cache_.get(stream)) return *std::move(hit);
    return load_once(stream);
  }

  // For queries, which no append will check: a cached entry is used only if it is at
  // the stream's head.
  Expected<Loaded> load_current(const std::string& stream) {
    auto head = store_.stream_head(stream);
    if (!head.ok()) return store_error(head.status(), "reading the head of " + stream, &store_);
    if (auto hit = cache_.get(stream); hit && hit->version == *head) return *std::move(hit);
    auto loaded = load_once(stream, &*head);
    // A load already under way may have read the stream before our head.
    if (loaded.ok() && !at_least(loaded->version, *head)) return load_from_store(stream);
    return loaded;
  }

  // After an append: the state the command decided on, evolved with what it wrote.
  // snapshot=false: the caller takes it later (snapshot_if_due), off a lane.
  void record_append(const std::string& stream, const Loaded& base,
                     const std::vector<const domain::EventPayload*>& events, domain::Timestamp at,
                     std::uint64_t last_version, bool snapshot = true) {
    auto next = std::make_shared<Aggregate>(*base.state);
    for (const domain::EventPayload* e : events) evolve(*next, *e, at);
    Loaded loaded{std::move(next), last_version, base.snapshot_version};
    if (snapshot) maybe_snapshot(stream, loaded);
    cache_.put(stream, std::move(loaded));
  }

  // A snapshot of the cached state of `stream`, if one is due and no other caller
  // is taking one of it already.
  void snapshot_if_due(const std::string& stream) {
    auto hit = cache_.get(stream);
    if (!hit || !hit->version || !snapshot_due(*hit->version, hit->snapshot_version, weight(*hit))) return;
    {
      std::lock_guard lock(snapshotting_mu_);
      if (!snapshotting_.insert(stream).second) return;
    }
    // Commands may have moved the cached entry on meanwhile: it keeps its state and
    // learns the snapshot.
    if (const auto written = maybe_snapshot(stream, *hit)) {
      cache_.note_snapshot(stream, *written);
    }
    std::lock_guard lock(snapshotting_mu_);
    snapshotting_.erase(stream);
  }

  void invalidate(const std::string& stream) { cache_.erase(stream); }

  std::uint64_t snapshots_written() const { return snapshots_written_.load(std::memory_order_relaxed); }
  std::uint64_t cold_loads() const { return cold_loads_.load(std::memory_order_relaxed); }

  // Whether the cache still holds each stream at the version `served` saw.
  bool unchanged(const std::vector<std::pair<std::string, Loaded>>& served) {
    return std::all_of(served.begin(), served.end(), [&](const auto& entry) {
      auto hit = cache_.get(entry.first);
      return hit && hit->version == entry.second.version;
    });
  }

 private:
  // One load of a stream at a time: callers that miss the cache while a load of the
  // same stream is under way wait for it and share its result. Without this, a
  // burst of commands on a large provider after a restart would each decode it
  // (its snapshot and the events after it), in parallel, many times over.
  struct Flight {
    std::mutex mu;
    std::condition_variable landed;
    std::optional<Expected<Loaded>> result;
  };

  // known_head: the stream's head, when the caller has just read it.
  Expected<Loaded> load_once(const std::string& stream, const Head* known_head = nullptr) {
    std::shared_ptr<Flight> flight;
    bool leader = false;
    {
      std::lock_guard lock(flights_mu_);
      auto [it, inserted] = flights_.try_emplace(stream);
      if (inserted) it->second = std::make_shared<Flight>();
      flight = it->second;
      leader = inserted;
    }
    if (!leader) {
      std::unique_lock lock(flight->mu);
      flight->landed.wait(lock, [&] { return flight->result.has_value(); });
      return *flight->result;
    }
    // Lands the flight however the load ends, an exception included: no caller
    // waits for a load nobody runs.
    struct Landing {
      AggregateLoader& loader;
      const std::string& stream;
      Flight& flight;
      Expected<Loaded> result = Error::unavailable("The load of " + stream + " was interrupted; try again.");
      ~Landing() {
        {
          std::lock_guard lock(loader.flights_mu_);
          loader.flights_.erase(stream);
        }
        {
          std::lock_guard lock(flight.mu);
          flight.result = result;
        }
        flight.landed.notify_all();
      }
    } landing{*this, stream, *flight};
    // The cache may have been filled between the caller's miss and this flight.
    if (auto hit = cache_.get(stream)) {
      landing.result = *std::move(hit);
    } else {
      landing.result = load_from_store(stream, known_head);
    }
    return landing.result;
  }

  Expected<Loaded> load_from_store(const std::string& stream, const Head* known_head = nullptr) {
    cold_loads_.fetch_add(1, std::memory_order_relaxed);
    std::optional<Aggregate> state = empty_aggregate(stream);
    if (!state) return Error::failed_precondition("The engine cannot load stream '" + stream + "'.");
    // The head first (unless the caller just read it): a stream that does not exist
    // yet (a command's new ids) costs one lookup instead of a scan, and the last page
    // ends at the head.
    es::Result<Head> head = known_head ? es::Result<Head>(*known_head) : store_.stream_head(stream);
    if (!head.ok()) return store_error(head.status(), "reading the head of " + stream, &store_);
    std::optional<std::uint64_t> version;
    std::optional<std::uint64_t> snapshot_version;
    // A stream shorter than snapshot_every events has no snapshot to look up. A
    // snapshot that fails to read or decode is only a lost shortcut: replay.
    if (head->has_value() && snapshot_due(**head, std::nullopt) && takes_snapshots(stream)) {
      auto snapshot = store_.read_snapshot(stream);
      if (snapshot.ok() && snapshot->has_value()) {
        if (auto decoded = decode_snapshot(stream, (*snapshot)->bytes)) {
          state = std::move(decoded);
          version = snapshot_version = (*snapshot)->version;
        }
      }
    }
    for (std::uint64_t from = version ? *version + 1 : 0; head->has_value() && from <= **head;) {
      auto page =
          store_.read_stream(stream, es::Direction::kForward, from,
                             static_cast<std::size_t>(std::min<std::uint64_t>(kReadPage, **head - from + 1)));
      if (!page.ok()) return store_error(page.status(), "reading " + stream, &store_);
      if (page->empty()) {
        return Error::data_loss("The head of " + stream + " is version " + std::to_string(**head) +
                                " but its events from version " + std::to_string(from) +
                                " are missing; verify the store and restore it from a backup.");
      }
      for (const es::RecordedEvent& e : *page) {
        auto payload = domain::decode_payload(e.payload);
        if (!payload.ok()) {
          return Error::data_loss("The event at position " + std::to_string(e.position) + " (" + stream +
                                  " version " + std::to_string(e.version) +
                                  ") cannot be decoded: " + payload.error().message);
        }
        evolve(*state, payload.value(), e.recorded_at_us);
        version = e.version;
      }
      from = *version + 1;
    }
    Loaded loaded{std::make_shared<const Aggregate>(*std::move(state)), version, snapshot_version};
    maybe_snapshot(stream, loaded);
    cache_.put(stream, loaded);
    return loaded;
  }

  // Whether a stream at `version` holds snapshot_every events or more that the
  // snapshot at `snapshot_version` does not cover; for a large aggregate, at least
  // an eighth of its weight (snapshot_weight) too, so that encoding snapshots costs
  // each event about the same whatever the size (a provider with 100,000 users is
  // snapshotted every 12,500 events, not every 32), and a cold load replays at
  // most that many events after the snapshot.
  bool snapshot_due(std::uint64_t version, std::optional<std::uint64_t> snapshot_version,
                    std::uint64_t weight = 0) const {
    if (snapshot_every_ == 0) return false;
    const std::uint64_t covered = snapshot_version ? *snapshot_version + 1 : 0;
    return version + 1 >= covered + std::max(snapshot_every_, weight / 8);
  }
  static std::uint64_t weight(const Loaded& loaded) { return snapshot_weight(*loaded.state); }

  // Best effort: a snapshot that is not written costs a longer replay later, never
  // a command. Encoding takes microseconds and happens once per snapshot_every
  // events; the store writes it outside its group commit, unsynced.
  // Returns the version of the snapshot written, if one was.
  std::optional<std::uint64_t> maybe_snapshot(const std::string& stream, Loaded& loaded) {
    if (!loaded.version || !snapshot_due(*loaded.version, loaded.snapshot_version, weight(loaded))) return {};
    const std::optional<std::string> bytes = encode_snapshot(*loaded.state);
    if (!bytes || !store_.write_snapshot(stream, *loaded.version, *bytes).ok()) return {};
    snapshots_written_.fetch_add(1, std::memory_order_relaxed);
    loaded.snapshot_version = loaded.version;
    return loaded.version;
  }

  std::atomic<std::uint64_t> snapshots_written_{0};
  std::atomic<std::uint64_t> cold_loads_{0};
  std::mutex flights_mu_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;

  es::EventStore& store_;
  AggregateCache cache_;
  const std::uint64_t snapshot_every_;
  std::mutex snapshotting_mu_;
  std::unordered_set<std::string> snapshotting_;
};

// What decide reads, for one attempt of one command. Each stream is loaded once and
// then served as it was, and every stream served is remembered with its version so
// that the append can check it. A query's reader (`current`) serves every stream as
// of its head, since no append will check what it read.
class Reader final : public domain::StateReader {
 public:
  explicit Reader(AggregateLoader& loader, bool current = false) : loader_(loader), current_(current) {}

  const domain::UserState* user(const domain::UserId& id) override {
    return get<domain::UserState>(domain::user_stream(id));
  }
  const domain::EmailState* email(std::string_view lower_email) override {
    return get<domain::EmailState>(domain::email_stream(lower_email));
  }
  const domain::ProviderState* provider(const domain::ProviderId& id) override {
    return get<domain::ProviderState>(domain::provider_stream(id));
  }
  const domain::OrganizationState* organization(const domain::OrganizationId& id) override {
    return get<domain::OrganizationState>(domain::organization_stream(id));
  }
  const domain::ItemState* item(const domain::ItemId& id) override {
    return get<domain::ItemState>(domain::item_stream(id));
  }

  Expected<Loaded> serve(const std::string& stream) {
    for (const auto& [name, loaded] : served_) {
      if (name == stream) return loaded;
    }
    auto loaded = current_ ? loader_.load_current(stream) : loader_.load(stream);
    if (loaded.ok()) served_.emplace_back(stream, loaded.value());
    return loaded;
  }

  const std::vector<std::pair<std::string, Loaded>>& served() const { return served_; }
  // The first load that failed. decide saw "no such stream" for it, so this error,
  // not decide's answer, is what the caller must hear.
  const std::optional<Error>& error() const { return error_; }

 private:
  template <class State>
  const State* get(const std::string& stream) {
    if (error_) return nullptr;
    auto loaded = serve(stream);
    if (!loaded.ok()) {
      error_ = loaded.error();
      return nullptr;
    }
    if (!loaded->version) return nullptr;
    return std::get_if<State>(loaded->state.get());
  }

  AggregateLoader& loader_;
  const bool current_;
  std::vector<std::pair<std::string, Loaded>> served_;
  std::optional<Error> error_;
};

// Commands that write a contended ("hot") stream are decided one at a time in this
// process: each stream maps to a lane, held from the decision until its append is
// written (not until it is synced; AppendRequest::on_written). The next command on
// that stream then decides on the state the previous one wrote, and its append
// joins the next group commit instead of failing its version check and retrying:
// 64 callers on one provider queue briefly instead of colliding. Uncontended
// commands take no lane. Lanes are striped (two streams may share one); a lane is
// released by whichever thread wrote the append.
class Lanes {
 public:
  class Held {
   public:
    Held() = default;
    Held(Lanes* lanes, std::vector<std::size_t> stripes) : lanes_(lanes), stripes_(std::move(stripes)) {}
    Held(Held&& o) noexcept : lanes_(std::exchange(o.lanes_, nullptr)), stripes_(std::move(o.stripes_)) {}
    Held& operator=(Held&& o) noexcept {
      release();
      lanes_ = std::exchange(o.lanes_, nullptr);
      stripes_ = std::move(o.stripes_);
      return *this;
    }
    ~Held() { release(); }
    void release() {
      if (lanes_ == nullptr) return;
      for (std::size_t i : stripes_) lanes_->unlock(i);
      lanes_ = nullptr;
    }
    bool holds(const Lanes& lanes, const std::string& stream) const {
      return lanes_ != nullptr &&
             std::binary_search(stripes_.begin(), stripes_.end(), lanes.stripe(stream));
    }

   private:
    Lanes* lanes_ = nullptr;
    std::vector<std::size_t> stripes_;
  };

  // Waits for the lanes of `streams`, taken in one global order (no deadlock). A
  // lane found busy keeps its streams hot: while commands queue on a stream, the
  // next ones queue too instead of going back to colliding.
  Held acquire(const std::vector<std::string>& streams) {
    std::vector<std::size_t> stripes;
    for (const auto& s : streams) stripes.push_back(stripe(s));
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    for (std::size_t i : stripes) {
      if (lock(i)) hot_until_[i].store(now_ns() + kHotFor, std::memory_order_relaxed);
    }
    return Held(this, std::move(stripes));
  }

  std::size_t stripe(const std::string& stream) const { return std::hash<std::string>{}(stream) % kStripes; }

  // A stream is hot for a second after an append to it failed its version check,
  // or a command found its lane busy; only commands writing a hot stream take
  // lanes, the others stay optimistic.
  void mark_hot(const std::string& stream) {
    hot_until_[stripe(stream)].store(now_ns() + kHotFor, std::memory_order_relaxed);
  }
  bool hot(const std::string& stream) const {
    return now_ns() < hot_until_[stripe(stream)].load(std::memory_order_relaxed);
  }

 private:
  static constexpr std::size_t kStripes = 4096;
  // Not a std::mutex: the thread that releases it may not be the one that took it.
  struct Stripe {
    std::mutex mu;
    std::condition_variable cv;
    bool busy = false;
  };
  // Whether the lane was busy (the caller had to wait).
  bool lock(std::size_t i) {
    Stripe& s = stripes_[i];
    std::unique_lock lock(s.mu);
    const bool contended = s.busy;
    s.cv.wait(lock, [&] { return !s.busy; });
    s.busy = true;
    return contended;
  }
  void unlock(std::size_t i) {
    Stripe& s = stripes_[i];
    {
      std::lock_guard lock(s.mu);
      s.busy = false;
    }
    s.cv.notify_one();
  }
  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static constexpr std::int64_t kHotFor = 1'000'000'000;
  std::array<Stripe, kStripes> stripes_;
  std::array<std::atomic<std::int64_t>, kStripes> hot_until_{};
};

// ---------------------------------------------------------------------------
// The append a decision makes.

struct PreparedAppend {
  es::AppendRequest request;
  // Per write: the state the decision saw, and the events that follow it.
  std::vector<Loaded> bases;
  std::vector<std::vector<const domain::EventPayload*>> events;
};

domain::RecordedActor with_outcome(domain::RecordedActor actor, const domain::Decision& decision) {
  actor.created_ids = decision.created_ids;
  for (const domain::ItemResult& item : decision.items) {
    auto r = std::make_unique<domain::fb::ItemResultT>();
    r->id = item.id;
    r->email = item.email;
    r->error = item.error;
    actor.item_results.push_back(std::move(r));
  }
  actor.token_count = static_cast<std::int32_t>(decision.tokens.size());
  return actor;
}

// Writes grouped per stream in order of first appearance, each expecting the version
// the decision saw; every stream read but not written is checked at its version.
// The first event carries the outcome, so that a re-submission can answer with it.
Expected<PreparedAppend> prepare_append(const es::CommandId& command_id, const domain::Actor& actor,
                                        const domain::Decision& decision, Reader& reader) {
  PreparedAppend p;
  p.request.command_id = command_id;
  const domain::RecordedActor recorded = domain::recorded_actor(actor, decision);
  std::string metadata;  // of the events after the first, encoded once one comes
  for (std::size_t i = 0; i < decision.events.size(); ++i) {
    const domain::Emitted& emitted = decision.events[i];
    auto write = std::find_if(p.request.writes.begin(), p.request.writes.end(),
                              [&](const es::StreamWrite& w) { return w.stream == emitted.stream; });
    std::size_t index = static_cast<std::size_t>(write - p.request.writes.begin());
    if (write == p.request.writes.end()) {
      // A stream decide writes without reading it is read now: the append must
      // expect its actual head.
      auto base = reader.serve(emitted.stream);
      if (!base.ok()) return base.error();
      p.request.writes.push_back({emitted.stream, es::ExpectedVersion::at(base->version), {}});
      p.bases.push_back(base.value());
      p.events.emplace_back();
    }
    es::NewEvent event;
    event.type = domain::event_name(emitted.payload);
    event.type_code = domain::event_code(emitted.payload.type);
    event.correlation_id = command_id;
    event.causation_id = command_id;
    if (i == 0) {
      event.metadata = domain::encode_actor(with_outcome(recorded, decision));
    } else {
      if (metadata.empty()) metadata = domain::encode_actor(recorded);
      event.metadata = metadata;
    }
    event.payload = domain::encode_payload(emitted.payload);
    p.request.writes[index].events.push_back(std::move(event));
    p.events[index].push_back(&emitted.payload);
  }
  for (const auto& [stream, loaded] : reader.served()) {
    const bool written = std::any_of(p.request.writes.begin(), p.request.writes.end(),
                                     [&](const es::StreamWrite& w) { return w.stream == stream; });
    if (!written) p.request.checks.push_back({stream, es::ExpectedVersion::at(loaded.version)});
  }
  return p;
}

CommandResult outcome_of(const es::CommandId& command_id, domain::Decision& decision) {
  CommandResult out;
  out.command_id = command_id;
  out.created_ids = std::move(decision.created_ids);
  out.items = std::move(decision.items);
  out.tokens = std::move(decision.tokens);
  return out;
}

// Random, so that commands that collided do not collide again in lockstep.
void backoff(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::int64_t ceiling = std::min<std::int64_t>(std::int64_t{50} << std::min(attempt, 16), 5'000);
  std::uniform_int_distribution<std::int64_t> micros(0, ceiling);
  std::this_thread::sleep_for(std::chrono::microseconds(micros(rng)));
}

}  // namespace

// ---------------------------------------------------------------------------

struct Engine::Impl {
  Impl(EngineOptions opts, std::unique_ptr<es::RocksDbEventStore> s, std::unique_ptr<KeyedMac> m)
      : options(std::move(opts)),
        store(std::move(s)),
        mac(std::move(m)),
        loader(*store, options.cache_entries, options.snapshot_every) {}

  domain::Timestamp now() const {
    if (options.clock) return options.clock();
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  Expected<CommandResult> execute(const domain::Command& command, const domain::Actor& actor,
                                  std::optional<es::CommandId> given);
  Expected<std::optional<CommandResult>> committed_outcome(const es::CommandId& command_id);

  template <class State>
  Expected<std::optional<State>> current(const std::string& stream) {
    auto loaded = loader.load_current(stream);
    if (!loaded.ok()) return loaded.error();
    if (!loaded->version) return std::optional<State>();
    return std::optional<State>(std::get<State>(*loaded->state));
  }

  EngineOptions options;
  std::unique_ptr<es::RocksDbEventStore> store;
  std::unique_ptr<KeyedMac> mac;
  AggregateLoader loader;
  Lanes lanes;
  std::unique_ptr<projections::ProjectionDb> projection_db;
  std::unique_ptr<projections::Runner> runner;
};

// The outcome of a command id that committed, rebuilt from its first event: the
// positions from the store's command record, the ids and per-item results from the
// actor metadata, the tokens re-derived from the command id.
Expected<std::optional<CommandResult>> Engine::Impl::committed_outcome(const es::CommandId& command_id) {
  auto found = store->find_command(command_id);
  if (!found.ok())
    return store_error(found.status(), "looking up command " + command_id.to_hex(), store.get());
  if (!found->has_value()) return std::optional<CommandResult>();
  const es::AppendResult& appended = **found;
  const std::string doing = "reading the first event of command " + command_id.to_hex();
  auto first = store->read_all(appended.first_position, 1);
  if (!first.ok()) return store_error(first.status(), doing, store.get());
  if (first->empty() || first->front().command_id != command_id) {
    return store_error(es::Status::not_found("no event of this command at position " +
                                             std::to_string(appended.first_position)),
                       doing);
  }
  auto recorded = domain::decode_actor(first->front().metadata);
  if (!recorded.ok()) {
    return Error::data_loss("The actor record of command " + command_id.to_hex() + " at position " +
                            std::to_string(appended.first_position) +
                            " cannot be decoded: " + recorded.error().message);
  }
  CommandResult out;
  out.command_id = command_id;
  out.first_position = appended.first_position;
  out.last_position = appended.last_position;
  out.deduplicated = true;
  out.created_ids = recorded->created_ids;
  for (const auto& item : recorded->item_results) {
    if (item) out.items.push_back({item->id, item->email, item->error});
  }
  Derivation derive(*mac, command_id);
  for (std::int32_t i = 0; i < recorded->token_count; ++i) out.tokens.push_back(derive.new_token());
  return std::optional<CommandResult>(std::move(out));
}

Expected<CommandResult> Engine::Impl::execute(const domain::Command& command, const domain::Actor& actor,
                                              std::optional<es::CommandId> given) {
  const es::CommandId command_id = given.value_or(es::Id16::random());
  const int attempts = std::max(1, options.max_attempts);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) backoff(attempt);
    // Checked on every attempt: a twin with the same id may commit while this one
    // retries, and a fresh decide would then refuse what the twin already did.
    if (given) {
      auto prior = committed_outcome(command_id);
      if (!prior.ok()) return prior.error();
      if (prior->has_value()) return std::move(*prior.value());
    }

    // Decided once without lanes, to learn which streams the command writes; if one
    // of them is hot (or on a retry), then under their lanes, again only if
    // something it read has changed meanwhile.
    Lanes::Held held;
    std::optional<Reader> reader;
    std::optional<Expected<domain::Decision>> decision;
    std::optional<Expected<PreparedAppend>> prepared;
    bool retry = false;
    for (int pass = 0; pass < 2; ++pass) {
      if (pass == 1 && loader.unchanged(reader->served())) break;
      reader.emplace(loader);
      Derivation derive(*mac, command_id);
      const domain::Environment env{now(), [&] { return derive.new_id(); }, [&] { return derive.new_token(); }};
      decision.emplace(domain::decide(command, actor, *reader, env));
      if (reader->error()) return *reader->error();
      if (!decision->ok() || (*decision)->events.empty()) {
        // A twin may have committed between the check above and decide's reads; its
        // outcome is the answer, not a refusal of what it did.
        if (given) {
          auto prior = committed_outcome(command_id);
          if (!prior.ok()) return prior.error();
          if (prior->has_value()) return std::move(*prior.value());
        }
        if (!decision->ok()) return decision->error();
        return outcome_of(command_id, decision->value());
      }
      prepared.emplace(prepare_append(command_id, actor, decision->value(), *reader));
      if (!prepared->ok()) return prepared->error();
      std::vector<std::string> written;
      for (const auto& w : (*prepared)->request.writes) written.push_back(w.stream);
      if (pass == 0) {
        // Optimistic, unless a stream is hot or this is a retry: the append's
        // version checks settle any race.
        if (attempt == 0 &&
            std::none_of(written.begin(), written.end(), [&](const std::string& w) { return lanes.hot(w); }))
          break;
        held = lanes.acquire(written);
      } else if (!std::all_of(written.begin(), written.end(),
                              [&](const std::string& w) { return held.holds(lanes, w); })) {
        retry = true;  // decided to write a stream whose lane it does not hold
      }
    }
    if (retry) {
      held.release();
      continue;
    }

    // The cache learns the new state as soon as the append is written, and the
    // lanes go: the next command on these streams decides on it meanwhile.
    PreparedAppend& p = prepared->value();
    bool recorded = false;
    p.request.on_written = [&](const es::AppendResult& r) {
      for (std::size_t i = 0; i < p.request.writes.size(); ++i) {
        loader.record_append(p.request.writes[i].stream, p.bases[i], p.events[i], r.recorded_at_us,
                             r.streams[i].last_version, /*snapshot=*/false);
      }
      recorded = true;
      held.release();
    };
    auto appended = store->append(p.request);
    held.release();
    if (appended.ok()) {
      // A deduplicated append wrote nothing: its twin recorded these very events and
      // updates the cache itself.
      if (!appended->deduplicated && !recorded) {
        for (std::size_t i = 0; i < p.request.writes.size(); ++i) {
          loader.record_append(p.request.writes[i].stream, p.bases[i], p.events[i], appended->recorded_at_us,
                               appended->streams[i].last_version);
        }
      }
      // Snapshots are written here, outside the lanes: a big state's snapshot
      // never holds up the next command on its stream.
      if (recorded) {
        for (const auto& w : p.request.writes) loader.snapshot_if_due(w.stream);
      }
      CommandResult out = outcome_of(command_id, decision->value());
      out.first_position = appended->first_position;
      out.last_position = appended->last_position;
      out.deduplicated = appended->deduplicated;
      return out;
    }

    const es::Status& status = appended.status();
    if (status.code() == es::StatusCode::kWrongExpectedVersion) {
      // The winner's append brings the cache up to date as soon as it is written
      // (on_written), while a reload would read only what is already synced. So the
      // first retries keep the cache; the third reloads it from the store once, in
      // case it has gone wrong some other way. Only once: under a stream of synced
      // commands a reload is often behind what is written, and reloading on every
      // later retry would throw away, each time, the state the winners recorded.
      const bool reload = attempt == 2;
      for (const auto& w : p.request.writes) {
        if (reload) loader.invalidate(w.stream);
        lanes.mark_hot(w.stream);
      }
      if (reload) {
        for (const auto& c : p.request.checks) loader.invalidate(c.stream);
      }
      continue;
    }
    // The same id committed with other content: a twin decided on other state (or at
    // another instant) and won. Its outcome is this command's outcome.
    if (status.code() == es::StatusCode::kFailedPrecondition) {
      auto prior = committed_outcome(command_id);
      if (prior.ok() && prior->has_value()) return std::move(*prior.value());
    }
    return store_error(status, "recording the command", store.get());
  }
  return Error::aborted(kConflictMessage);
}

// ---------------------------------------------------------------------------

Expected<std::unique_ptr<Engine>> Engine::open(const std::string& dir, const EngineOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error::unavailable("Cannot create the data directory " + dir + ": " + ec.message() + ".");

  es::RocksDbOptions store_options;
  store_options.durability = options.durability;
  store_options.log_prefill_bytes = options.log_prefill_bytes;
  store_options.file_system = options.file_system;
  store_options.clock = options.clock;
  auto store = es::RocksDbEventStore::open((fs::path(dir) / "store").string(), store_options);
  if (!store.ok()) return store_error(store.status(), "opening the event store in " + dir);

  // Opened after the store, whose lock keeps a second engine out of the directory
  // while the key is created.
  auto key = open_key(fs::path(dir) / "engine.key", (*store)->last_position() > 0);
  auto mac = key.ok() ? KeyedMac::create(key.value()) : Expected<std::unique_ptr<KeyedMac>>(key.error());
  if (!mac.ok()) {
    (void)(*store)->close();
    return mac.error();
  }
  auto impl = std::make_unique<Impl>(options, std::move(store).value(), std::move(mac.value()));
  auto pdb = projections::ProjectionDb::open((fs::path(dir) / "projections").string());
  if (!pdb.ok()) {
    (void)impl->store->close();
    return store_error(pdb.status(), "opening the read models in " + dir);
  }
  impl->projection_db = std::move(pdb).value();
  if (options.projections) {
    auto runner =
        projections::Runner::create(*impl->store, *impl->projection_db, projections::portal_projections());
    if (!runner.ok()) {
      (void)impl->store->close();
      return store_error(runner.status(), "starting the read models in " + dir);
    }
    impl->runner = std::move(runner).value();
    impl->runner->start();
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  close();
}

Expected<CommandResult> Engine::execute(const domain::Command& command, const domain::Actor& actor,
                                        std::optional<eventstore::CommandId> command_id) {
  return impl_->execute(command, actor, command_id);
}

Expected<std::optional<domain::ProviderState>> Engine::provider(const domain::ProviderId& id) {
  return impl_->current<domain::ProviderState>(domain::provider_stream(id));
}

Expected<std::optional<domain::OrganizationState>> Engine::organization(const domain::OrganizationId& id) {
  return impl_->current<domain::OrganizationState>(domain::organization_stream(id));
}

Expected<std::optional<domain::UserState>> Engine::user(const domain::UserId& id) {
  return impl_->current<domain::UserState>(domain::user_stream(id));
}

Expected<std::optional<domain::ItemState>> Engine::item(const domain::ItemId& id) {
  return impl_->current<domain::ItemState>(domain::item_stream(id));
}

Expected<ItemView> Engine::read_item(const domain::ItemId& id, const domain::Actor& actor) {
  Reader reader(impl_->loader, /*current=*/true);
  const domain::ItemState* item = reader.item(id);
  if (reader.error()) return *reader.error();
  if (item == nullptr || !item->exists) return Error::not_found();
  auto rights = domain::item_rights(*item, actor, reader);
  if (reader.error()) return *reader.error();
  if (!rights.ok()) return rights.error();
  return ItemView{*item, rights.value()};
}

Expected<domain::OrganizationState> Engine::read_organization(const domain::OrganizationId& id,
                                                              const domain::Actor& actor) {
  Reader reader(impl_->loader, /*current=*/true);
  auto visible = domain::may_view_organization(id, actor, reader);
  if (reader.error()) return *reader.error();
  if (!visible.ok()) return visible.error();
  return *reader.organization(id);
}

Expected<domain::ProviderState> Engine::read_provider(const domain::ProviderId& id,
                                                      const domain::Actor& actor) {
  Reader reader(impl_->loader, /*current=*/true);
  auto visible = domain::may_view_provider(id, actor, reader);
  if (reader.error()) return *reader.error();
  if (!visible.ok()) return visible.error();
  return *reader.provider(id);
}

Expected<bool> Engine::authorize(const std::function<Expected<bool>(domain::StateReader&)>& rule) {
  Reader reader(impl_->loader, /*current=*/true);
  auto allowed = rule(reader);
  if (reader.error()) return *reader.error();
  return allowed;
}

eventstore::EventStore& Engine::store() {
  return *impl_->store;
}

std::uint64_t Engine::snapshots_written() const {
  return impl_->loader.snapshots_written();
}
std::uint64_t Engine::cold_loads() const {
  return impl_->loader.cold_loads();
}

projections::ProjectionDb& Engine::projection_db() {
  return *impl_->projection_db;
}

projections::Runner* Engine::runner() {
  return impl_->runner.get();
}

Expected<bool> Engine::wait_for_projection(std::string_view name, std::uint64_t min_position,
                                           std::chrono::milliseconds timeout) {
  if (!impl_->runner) return Error::failed_precondition("The read models are not running in this engine.");
  auto s = impl_->runner->wait_for(name, min_position, timeout);
  if (s.ok()) return true;
  if (s.code() == es::StatusCode::kNotFound)
    return Error::not_found("No read model is named " + std::string(name) + ".");
  if (s.code() == es::StatusCode::kFailedPrecondition) return Error::failed_precondition(s.message());
  return Error::unavailable(s.message());
}

Expected<bool> Engine::wait_for_projections(std::uint64_t min_position, std::chrono::milliseconds timeout) {
  if (!impl_->runner) return Error::failed_precondition("The read models are not running in this engine.");
  for (const auto& status : impl_->runner->status()) {
    auto w = wait_for_projection(status.name, min_position, timeout);
    if (!w.ok()) return w;
  }
  return true;
}

void Engine::close() {
  // The runner first: it reads the log until it stops.
  if (impl_->runner) impl_->runner->stop();
  (void)impl_->store->close();
}

}  // namespace portal
