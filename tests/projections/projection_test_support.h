// What the projection tests and the crash child share: temporary directories,
// a log of well-formed domain events written straight into a RocksDbEventStore,
// and small test projections whose rows are easy to check:
//
//   CountingProjection  'e' position -> stream (one row per event),
//                       'n' stream -> how many events of the stream it folded
//                       (read-modify-write: a re-applied event shows as a wrong count),
//                       and, with `wide` > 0, that many 'w' position index -> filler
//                       rows per event. It can be told to fail at one position
//                       (after writing a row, which must then not be kept).
//
// Kept free of GoogleTest so that the crash child can include it.
#pragma once

#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "portal/domain/events.h"
#include "portal/eventstore/rocksdb_event_store.h"
#include "portal/projections/projection.h"
#include "portal/projections/projection_db.h"

namespace portal::projections::testing {

namespace es = eventstore;
namespace d = domain;

class TempDir {
 public:
  explicit TempDir(const char* what = "projections-test") {
    std::string templ = (std::filesystem::temp_directory_path() / (std::string(what) + "-XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  std::string path_;
};

inline std::string be64(std::uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  return out;
}

inline std::uint64_t from_be64(std::string_view in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

// The stream of test event n: "user-<uuid>" with one of `streams` ids.
inline std::string stream_of(std::uint64_t n, std::uint64_t streams) {
  d::Uuid id;
  const std::uint64_t k = n % streams + 1;
  for (int i = 0; i < 8; ++i)
    id.bytes[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(k >> (56 - 8 * i));
  return d::user_stream(id);
}

// A well-formed domain event (its payload and actor decode), one per stream call.
inline es::NewEvent domain_event(std::uint64_t n) {
  d::fb::UserRegisteredT registered;
  registered.user_id.bytes[0] = static_cast<std::uint8_t>(n);
  registered.email = "user-" + std::to_string(n) + "@example.com";
  registered.name = "User " + std::to_string(n);
  d::EventPayload payload;
  payload.Set(std::move(registered));
  d::RecordedActor actor;
  actor.ip_address = "192.0.2.1";
  es::NewEvent e;
  e.type = "UserRegistered";
  e.payload = d::encode_payload(payload);
  e.metadata = d::encode_actor(actor);
  return e;
}

// Appends `count` events, one append each, spread over `streams` streams; returns
// the last position.
inline std::uint64_t append_events(es::EventStore& store, std::uint64_t count, std::uint64_t streams = 7) {
  const std::uint64_t base = store.last_position();
  std::uint64_t last = base;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t number = base + i + 1;
    es::AppendRequest request;
    request.command_id = es::Id16::random();
    request.writes.push_back(
        es::StreamWrite{stream_of(number, streams), es::ExpectedVersion::any(), {domain_event(number)}});
    auto r = store.append(request);
    if (!r.ok()) throw std::runtime_error("append: " + r.status().to_string());
    last = r->last_position;
  }
  return last;
}

// For each stream, how many of the log's events up to `up_to` belong to it.
inline std::map<std::string, std::uint64_t> stream_counts(es::EventStore& store, std::uint64_t up_to) {
  std::map<std::string, std::uint64_t> counts;
  for (std::uint64_t from = 1; from <= up_to;) {
    auto events =
        store.read_all(from, static_cast<std::size_t>(std::min<std::uint64_t>(4096, up_to - from + 1)));
    if (!events.ok()) throw std::runtime_error("read_all: " + events.status().to_string());
    if (events->empty()) break;
    for (const auto& e : *events) {
      if (e.position > up_to) break;
      ++counts[std::string(e.stream)];
    }
    from = events->back().position + 1;
  }
  return counts;
}

struct CountingOptions {
  std::string name = "counts";
  std::uint32_t version = 1;
  std::optional<std::uint64_t> fail_at;  // refuse this position
  std::size_t wide = 0;                  // filler rows per event
  // Called with every position applied (before its rows are committed).
  std::function<void(std::uint64_t)> on_apply;

  CountingOptions v(std::uint32_t n) && {
    version = n;
    return std::move(*this);
  }
  CountingOptions failing_at(std::uint64_t p) && {
    fail_at = p;
    return std::move(*this);
  }
  CountingOptions widened(std::size_t n) && {
    wide = n;
    return std::move(*this);
  }
  CountingOptions applying(std::function<void(std::uint64_t)> f) && {
    on_apply = std::move(f);
    return std::move(*this);
  }
};

inline CountingOptions named(std::string name) {
  CountingOptions o;
  o.name = std::move(name);
  return o;
}

inline std::string event_key(std::uint64_t position) {
  return "e" + be64(position);
}
inline std::string count_key(std::string_view stream) {
  return "n" + std::string(stream);
}
inline std::string wide_key(std::uint64_t position, std::size_t i) {
  return "w" + be64(position) + static_cast<char>('a' + i);
}
inline std::string wide_value(std::uint64_t position, std::size_t i) {
  std::string v = "filler " + std::to_string(position) + "/" + std::to_string(i) + " ";
  v.resize(96, '.');
  return v;
}
inline std::string failure_reason(std::uint64_t position) {
  return "event " + std::to_string(position) + " is one this projection refuses";
}

class CountingProjection final : public Projection {
 public:
  explicit CountingProjection(CountingOptions options) : o_(std::move(options)) {}
  std::string_view name() const override { return o_.name; }
  std::uint32_t version() const override { return o_.version; }
  std::optional<std::string> apply(const ProjectedEvent& event, Rows& rows) override {
    if (o_.on_apply) o_.on_apply(event.position);
    if (event.payload == nullptr || event.actor == nullptr) return "no decoded payload or actor";
    if (o_.fail_at && *o_.fail_at == event.position) {
      rows.put("x" + be64(event.position), "written before the refusal");
      return failure_reason(event.position);
    }
    rows.put(event_key(event.position), event.stream);
    const std::string ck = count_key(event.stream);
    std::uint64_t n = 0;
    if (auto v = rows.get(ck)) n = std::stoull(*v);
    rows.put(ck, std::to_string(n + 1));
    for (std::size_t i = 0; i < o_.wide; ++i)
      rows.put(wide_key(event.position, i), wide_value(event.position, i));
    return std::nullopt;
  }

 private:
  CountingOptions o_;
};

inline std::unique_ptr<Projection> counting(CountingOptions o) {
  return std::make_unique<CountingProjection>(std::move(o));
}

// What a CountingProjection's generation holds, read back from the database.
struct CountedRows {
  std::map<std::uint64_t, std::string> events;  // position -> stream
  std::map<std::string, std::uint64_t> counts;  // stream -> count
  std::map<std::uint64_t, std::size_t> wide;    // position -> filler rows
  std::size_t refused_rows = 0;                 // 'x' rows (must never be kept)
  std::size_t bad_filler = 0;                   // filler rows with a wrong value
};

inline CountedRows read_counted(const ProjectionDb& db, std::string_view name, std::uint64_t generation) {
  CountedRows out;
  db.scan(name, generation, "", [&](std::string_view k, std::string_view v) {
    if (k.empty()) return true;
    switch (k[0]) {
      case 'e': out.events[from_be64(k.substr(1))] = std::string(v); break;
      case 'n': out.counts[std::string(k.substr(1))] = std::stoull(std::string(v)); break;
      case 'w': {
        const std::uint64_t p = from_be64(k.substr(1));
        const std::size_t i = static_cast<std::size_t>(k[9] - 'a');
        ++out.wide[p];
        if (v != wide_value(p, i)) ++out.bad_filler;
        break;
      }
      case 'x': ++out.refused_rows; break;
      default: break;
    }
    return true;
  });
  return out;
}

inline std::unique_ptr<es::RocksDbEventStore> open_store(const std::string& dir) {
  es::RocksDbOptions o;
  o.durability = es::Durability::kBuffered;
  auto s = es::RocksDbEventStore::open(dir, o);
  if (!s.ok()) throw std::runtime_error("opening the store " + dir + ": " + s.status().to_string());
  return std::move(s).value();
}

inline std::unique_ptr<ProjectionDb> open_db(const std::string& dir) {
  auto db = ProjectionDb::open(dir);
  if (!db.ok())
    throw std::runtime_error("opening the projections db " + dir + ": " + db.status().to_string());
  return std::move(db).value();
}

}  // namespace portal::projections::testing
