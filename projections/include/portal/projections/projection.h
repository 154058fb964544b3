// A projection folds events into rows (DESIGN.md section 5). It sees each event
// once, in log order, with its payload and actor decoded, and writes rows through a
// Rows view of its current generation. The runner commits a batch of a projection's
// rows together with its checkpoint in one RocksDB WriteBatch: after a crash the
// rows and the checkpoint are never apart, so every event is applied exactly once.
// Projections of one pass fold in parallel, so apply() must touch only its rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "portal/domain/events.h"
#include "portal/eventstore/types.h"

namespace portal::projections {

// One event of the log, decoded once and shown to every projection.
struct ProjectedEvent {
  std::uint64_t position = 0;
  std::string_view stream;
  // The id part of the stream's name ("org-<uuid>": the uuid) when it is a UUID,
  // parsed once for every projection: set both with set_stream().
  std::optional<domain::Uuid> stream_uuid;
  std::uint64_t version = 0;
  std::string_view type;
  std::uint32_t code = 0;
  std::int64_t at = 0;  // recorded-at, UTC microseconds
  eventstore::CommandId command_id;
  const domain::EventPayload* payload = nullptr;
  const domain::RecordedActor* actor = nullptr;

  void set_stream(std::string_view name) {
    stream = name;
    const std::size_t dash = name.find('-');
    stream_uuid = dash == std::string_view::npos ? std::nullopt : domain::Uuid::parse(name.substr(dash + 1));
  }
};

// A projection's rows in the generation being written. Reads see the writes of the
// batch not yet committed.
class Rows {
 public:
  virtual ~Rows() = default;
  virtual void put(std::string_view key, std::string_view value) = 0;
  virtual void del(std::string_view key) = 0;
  virtual std::optional<std::string> get(std::string_view key) = 0;
  // Adds `member` to the ordered list `list`, such as an index's (time, position)
  // pairs: a list's members are added in increasing byte order along the log, all
  // of one width (1 to 255 bytes); an event that adds one out of order fails. The
  // members one batch adds to a list are stored as one row, so an index costs a row
  // per list and batch rather than one per event; ProjectionDb::scan_list reads a
  // list back, and get and scan do not see lists.
  virtual void append(std::string_view list, std::string_view member) = 0;
  // Calls visit(key, value) for every row whose key starts with prefix, in key
  // order, batch writes included; stops when visit returns false.
  template <class Visit>
  void scan(std::string_view prefix, Visit visit) {
    scan_impl(prefix, [&](std::string_view k, std::string_view v) { return visit(k, v); });
  }

 protected:
  struct Visitor {
    virtual ~Visitor() = default;
    virtual bool operator()(std::string_view key, std::string_view value) = 0;
  };
  template <class F>
  struct VisitorOf final : Visitor {
    explicit VisitorOf(F& f) : f_(f) {}
    bool operator()(std::string_view key, std::string_view value) override { return f_(key, value); }
    F& f_;
  };
  template <class F>
  void scan_impl(std::string_view prefix, F f) {
    VisitorOf<F> v(f);
    scan_rows(prefix, v);
  }
  virtual void scan_rows(std::string_view prefix, Visitor& visit) = 0;
};

class Projection {
 public:
  virtual ~Projection() = default;
  // Unique among the runner's projections: [a-z0-9_-]+.
  virtual std::string_view name() const = 0;
  // Bumped when what the rows mean changes: a generation of another version is
  // rebuilt, never served.
  virtual std::uint32_t version() const = 0;
  // Whether apply() reads rows (get, scan). A projection that only writes says
  // false and gets cheaper writes: its Rows ignore get and scan.
  virtual bool reads_rows() const { return true; }
  // Folds one event into rows. An error (a reason) stops this projection at this
  // event: nothing of the event is kept, the checkpoint stays before it, and the
  // other projections go on.
  virtual std::optional<std::string> apply(const ProjectedEvent& event, Rows& rows) = 0;
};

}  // namespace portal::projections
