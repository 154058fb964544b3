#include "portal/projections/runner.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <future>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

#include "keys.h"
#include "lists.h"
#include "portal/eventstore/rocksdb_event_store.h"

namespace portal::projections {

namespace es = eventstore;

// The rows a projection that reads its rows has read or written, kept from one
// batch to the next. The runner is a generation's only writer, so a row read once
// stays known until the runner writes it; a write is dirty until committed. A
// failed commit forgets everything, and so does outgrowing
// RunnerOptions::row_cache_bytes.
class Runner::RowCache {
 public:
  // What a row costs beyond its key and value: the map's node and the strings.
  static constexpr std::size_t kRowOverhead = 128;

  struct Row {
    std::optional<std::string> value;  // nullopt: no such row
    bool dirty = false;
  };
  using Map = std::map<std::string, Row, std::less<>>;

  // Forgets everything when the rows are those of another generation.
  void serve(const std::string& prefix) {
    if (prefix == prefix_) return;
    clear();
    prefix_ = prefix;
  }
  void clear() {
    rows_.clear();
    dirty_.clear();
    bytes_ = 0;
  }

  Map rows_;
  std::vector<Map::iterator> dirty_;  // in the order first written, each once
  std::size_t bytes_ = 0;             // memory held, roughly (rewrites count again)

 private:
  std::string prefix_;
};

struct Runner::Target {
  Projection* projection = nullptr;
  Generation generation;
  std::string prefix;  // ProjectionDb::row_prefix
  std::uint64_t checkpoint = 0;
  std::optional<std::string> failure;
  RowCache rows;  // for a projection that reads its rows

  bool active() const { return !failure; }
};

namespace {

std::string row_key(const std::string& prefix, std::string_view key) {
  std::string k;
  k.reserve(prefix.size() + key.size());
  k.append(prefix);
  k.append(key);
  return k;
}

// A projection's rows as one lane of a batch sees them: the projection's writes
// gather in a WriteBatch under the generation's prefix, each event's undone if
// the projection refuses it. Lists (Rows::append) gather here, one chunk row per
// list and batch.
class LaneRows : public Rows {
 public:
  void begin_event() {
    list_undo_.clear();
    begin_rows();
  }
  // After apply(): why the event cannot be kept though the projection accepted it
  // (a row could not be read, a list member came out of order).
  std::optional<std::string> read_error() {
    if (list_error_) return std::exchange(list_error_, std::nullopt);
    return rows_error();
  }
  void end_event(bool keep) {
    if (!keep) {
      for (auto it = list_undo_.rbegin(); it != list_undo_.rend(); ++it) it->first->resize(it->second);
    }
    end_rows(keep);
  }
  // The batch to commit with the checkpoint, lists included; then committed(ok)
  // with the outcome.
  rocksdb::WriteBatch& batch(const std::string& prefix) {
    rocksdb::WriteBatch& b = rows_batch();
    for (const auto& [list, pending] : lists_) {
      if (pending.members.empty()) continue;  // every member undone
      (void)b.Put(
          row_key(prefix, lists::chunk_key(list, std::string_view(pending.members).substr(0, pending.width))),
          lists::chunk_value(pending.width, pending.members));
    }
    return b;
  }
  virtual void committed(bool ok) = 0;

  void append(std::string_view list, std::string_view member) final {
    auto it = lists_.find(list);
    if (it == lists_.end()) it = lists_.emplace(std::string(list), Pending{}).first;
    Pending& p = it->second;
    const std::string_view last = p.members.empty()
                                      ? std::string_view()
                                      : std::string_view(p.members).substr(p.members.size() - p.width);
    if (member.empty() || member.size() > lists::kMaxWidth ||
        (!p.members.empty() && member.size() != p.width) || member <= last) {
      if (!list_error_) list_error_ = "a member added to a list out of order or of another width";
      return;
    }
    list_undo_.emplace_back(&p.members, p.members.size());
    p.width = member.size();
    p.members.append(member);
  }

 protected:
  virtual void begin_rows() = 0;
  virtual std::optional<std::string> rows_error() { return std::nullopt; }
  virtual void end_rows(bool keep) = 0;
  virtual rocksdb::WriteBatch& rows_batch() = 0;

 private:
  struct Pending {
    std::size_t width = 0;
    std::string members;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Pending, Hash, std::equal_to<>> lists_;
  std::vector<std::pair<std::string*, std::size_t>> list_undo_;  // sizes before this event
  std::optional<std::string> list_error_;
};

// A projection that only writes (the audit log): a plain WriteBatch, no index.
class WriteOnlyRows final : public LaneRows {
 public:
  WriteOnlyRows(const std::string& prefix, std::size_t reserve) : prefix_(prefix), batch_(reserve) {}

  void put(std::string_view key, std::string_view value) override {
    (void)batch_.Put(full(key), rocksdb::Slice(value.data(), value.size()));
  }
  void del(std::string_view key) override { (void)batch_.Delete(full(key)); }
  std::optional<std::string> get(std::string_view) override { return std::nullopt; }
  void committed(bool) override {}

 protected:
  void begin_rows() override { batch_.SetSavePoint(); }
  void end_rows(bool keep) override { (void)(keep ? batch_.PopSavePoint() : batch_.RollbackToSavePoint()); }
  rocksdb::WriteBatch& rows_batch() override { return batch_; }
  void scan_rows(std::string_view, Visitor&) override {}

 private:
  std::string full(std::string_view key) const { return row_key(prefix_, key); }

  const std::string& prefix_;
  rocksdb::WriteBatch batch_;
};

// A projection that reads its rows: reads come from the cache, else from the
// database (and are then cached); writes go to the cache, and a batch commits
// each written row's last value once.
class CachedRows final : public LaneRows {
 public:
  CachedRows(Runner::RowCache& cache, std::size_t max_bytes, rocksdb::DB* db, const std::string& prefix)
      : cache_(cache), max_bytes_(max_bytes), db_(db), prefix_(prefix) {}

  void put(std::string_view key, std::string_view value) override { write(key, std::string(value)); }
  void del(std::string_view key) override { write(key, std::nullopt); }
  std::optional<std::string> get(std::string_view key) override {
    if (auto it = cache_.rows_.find(key); it != cache_.rows_.end()) return it->second.value;
    std::string value;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), full(key), &value);
    if (!s.ok() && !s.IsNotFound()) {
      if (!read_error_) read_error_ = "reading one of its rows: " + s.ToString();
      return std::nullopt;
    }
    std::optional<std::string> row;
    if (s.ok()) row = std::move(value);
    cache_.bytes_ += Runner::RowCache::kRowOverhead + key.size() + (row ? row->size() : 0);
    return cache_.rows_.emplace(std::string(key), Runner::RowCache::Row{std::move(row), false})
        .first->second.value;
  }

  void committed(bool ok) override {
    if (!ok || cache_.bytes_ > max_bytes_) {
      cache_.clear();
      return;
    }
    for (auto it : cache_.dirty_) it->second.dirty = false;
    cache_.dirty_.clear();
  }

 protected:
  void begin_rows() override { undo_.clear(); }
  std::optional<std::string> rows_error() override { return std::exchange(read_error_, std::nullopt); }
  void end_rows(bool keep) override {
    if (keep) return;
    // Rows the refused event made dirty leave the dirty list before any is erased:
    // those whose state before the event (their first undo entry) was clean or absent.
    std::erase_if(cache_.dirty_, [&](Runner::RowCache::Map::iterator d) {
      return std::any_of(undo_.begin(), undo_.end(),
                         [&](const Undo& u) { return u.key == d->first && (!u.before || !u.before->dirty); });
    });
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      auto row = cache_.rows_.find(it->key);
      if (it->before) {
        row->second = *it->before;
      } else {
        cache_.rows_.erase(row);
      }
    }
  }

  rocksdb::WriteBatch& rows_batch() override {
    auto& dirty = cache_.dirty_;
    std::sort(dirty.begin(), dirty.end(), [](auto a, auto b) { return a->first < b->first; });
    for (auto it : dirty) {
      const std::string k = full(it->first);
      (void)(it->second.value ? batch_.Put(k, *it->second.value) : batch_.Delete(k));
    }
    return batch_;
  }

  // The database's rows under the prefix, with the cache's over them.
  void scan_rows(std::string_view prefix, Visitor& visit) override {
    const std::string start = full(prefix);
    const std::string end = keys::successor(start);
    rocksdb::ReadOptions ro;
    const rocksdb::Slice upper(end);
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    it->Seek(start);
    auto cached = cache_.rows_.lower_bound(prefix);
    auto cached_in = [&] { return cached != cache_.rows_.end() && cached->first.starts_with(prefix); };
    while (true) {
      const bool from_db = it->Valid();
      const std::string_view db_key =
          from_db ? std::string_view(it->key().data(), it->key().size()).substr(prefix_.size())
                  : std::string_view();
      if (from_db && db_key.starts_with(lists::kTag)) {  // a list's chunk: not a row
        it->Next();
        continue;
      }
      if (cached_in() && (!from_db || cached->first <= db_key)) {
        if (from_db && cached->first == db_key) it->Next();
        const auto& row = cached->second;
        if (row.value && !visit(cached->first, *row.value)) return;
        ++cached;
      } else if (from_db) {
        if (!visit(db_key, std::string_view(it->value().data(), it->value().size()))) return;
        it->Next();
      } else {
        break;
      }
    }
    if (!it->status().ok() && !read_error_) read_error_ = "scanning its rows: " + it->status().ToString();
  }

 private:
  struct Undo {
    std::string key;
    std::optional<Runner::RowCache::Row> before;  // nullopt: not cached before
  };

  void write(std::string_view key, std::optional<std::string> value) {
    auto it = cache_.rows_.find(key);
    if (it == cache_.rows_.end()) {
      undo_.push_back({std::string(key), std::nullopt});
      it = cache_.rows_.emplace(std::string(key), Runner::RowCache::Row{}).first;
      cache_.bytes_ += Runner::RowCache::kRowOverhead + key.size();
    } else {
      undo_.push_back({std::string(key), std::move(it->second)});  // overwritten below
    }
    const bool was_dirty = undo_.back().before && undo_.back().before->dirty;
    if (!was_dirty) cache_.dirty_.push_back(it);
    cache_.bytes_ += value ? value->size() : 0;
    it->second = Runner::RowCache::Row{std::move(value), true};
  }
  std::string full(std::string_view key) const { return row_key(prefix_, key); }

  Runner::RowCache& cache_;
  std::size_t max_bytes_;
  rocksdb::DB* db_;
  const std::string& prefix_;
  rocksdb::WriteBatch batch_;
  std::vector<Undo> undo_;
  std::optional<std::string> read_error_;
};

// One event in the shape projections see, decoded once for all of them.
struct Decoded {
  domain::EventPayload payload;
  domain::RecordedActor actor;
  std::optional<std::string> error;
};

Decoded decode(std::string_view payload, std::string_view metadata) {
  Decoded d;
  auto p = domain::decode_payload(payload);
  if (!p.ok()) {
    d.error = "the payload cannot be decoded: " + p.error().message;
    return d;
  }
  d.payload = std::move(p.value());
  auto a = domain::decode_actor(metadata);
  if (!a.ok()) {
    d.error = "the actor metadata cannot be decoded: " + a.error().message;
    return d;
  }
  d.actor = std::move(a.value());
  return d;
}

class ProgressMeter {
 public:
  ProgressMeter(const ProgressFn& fn, std::uint64_t from, std::uint64_t to)
      : fn_(fn), from_(from), total_(to >= from ? to - from : 0), start_(std::chrono::steady_clock::now()) {}
  // The log may grow while a pass chases it: the total follows.
  void grow_to(std::uint64_t to) { total_ = std::max(total_, to >= from_ ? to - from_ : 0); }
  void at(std::uint64_t position, bool last = false) {
    if (!fn_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!last && now - reported_ < std::chrono::milliseconds(250)) return;
    reported_ = now;
    Progress p;
    p.total = total_;
    p.done = std::min(total_, position >= from_ ? position - from_ : 0);
    const double secs = std::chrono::duration<double>(now - start_).count();
    p.rate = secs > 0 ? static_cast<double>(p.done) / secs : 0;
    p.seconds_left = p.rate > 0 ? static_cast<double>(p.total - p.done) / p.rate : 0;
    fn_(p);
  }

 private:
  const ProgressFn& fn_;
  std::uint64_t from_, total_;
  std::chrono::steady_clock::time_point start_, reported_{};
};

std::uint64_t lowest_checkpoint(const std::vector<Runner::Target*>& targets);

}  // namespace

Runner::Runner(es::EventStore& store, ProjectionDb& db, RunnerOptions options)
    : store_(store), db_(db), options_(options) {}

Runner::~Runner() {
  stop();
}

es::Result<std::unique_ptr<Runner>> Runner::create(es::EventStore& store, ProjectionDb& db,
                                                   std::vector<std::unique_ptr<Projection>> projections,
                                                   RunnerOptions options) {
  if (db.read_only())
    return es::Status::failed_precondition("projections cannot run on a read-only database");
  std::unique_ptr<Runner> r(new Runner(store, db, options));
  for (auto& p : projections) {
    const std::string name(p->name());
    for (const auto& existing : r->projections_) {
      if (existing->name() == name) return es::Status::invalid_argument("two projections are named " + name);
    }
    auto target = std::make_unique<Target>();
    target->projection = p.get();
    std::optional<Generation> serving = db.serving(name);
    if (!serving || serving->version != p->version()) {
      // A new projection, or rows that mean something else now: a fresh generation.
      Generation fresh{serving ? serving->number + 1 : 1, p->version()};
      if (auto b = db.building(name); b && b->number >= fresh.number) fresh.number = b->number + 1;
      rocksdb::WriteBatch batch;
      (void)batch.Put(ProjectionDb::serving_key(name), ProjectionDb::encode_generation(fresh));
      if (auto s = db.write_generations(batch); !s.ok()) return s;
      if (serving) {
        if (auto s = db.drop(name, serving->number); !s.ok()) return s;
      }
      serving = fresh;
    }
    target->generation = *serving;
    target->prefix = ProjectionDb::row_prefix(name, serving->number);
    target->checkpoint = db.checkpoint(name, serving->number);
    r->serving_.push_back(std::move(target));
    r->projections_.push_back(std::move(p));
  }
  return r;
}

namespace {
std::uint64_t lowest_checkpoint(const std::vector<Runner::Target*>& targets) {
  std::uint64_t low = std::numeric_limits<std::uint64_t>::max();
  for (const auto* t : targets)
    if (t->active()) low = std::min(low, t->checkpoint);
  return low;
}
}  // namespace

// The events of one batch, read once and decoded once for every projection.
struct Runner::Batch {
  struct Staged {
    ProjectedEvent event;
    std::string stream, type;
    Decoded decoded;
  };
  std::vector<Staged> staged;
};

es::Result<Runner::Batch> Runner::read_batch(std::uint64_t from, std::uint64_t up_to) const {
  Batch batch;
  if (from > up_to) return batch;
  const auto limit =
      static_cast<std::size_t>(std::min<std::uint64_t>(options_.batch_events, up_to - from + 1));
  std::vector<Batch::Staged>& staged = batch.staged;
  staged.reserve(limit);  // no reallocation below: events point into their own strings
  auto stage = [&](ProjectedEvent e, std::string_view stream, std::string_view type, std::string_view payload,
                   std::string_view metadata) {
    Batch::Staged& s = staged.emplace_back();
    s.event = e;
    s.stream.assign(stream);
    s.type.assign(type);
    s.decoded = decode(payload, metadata);
  };
  if (auto* rocks = dynamic_cast<es::RocksDbEventStore*>(&store_)) {
    auto s = rocks->scan_all(from, limit, [&](const es::RocksDbEventStore::RecordView& v) {
      ProjectedEvent e;
      e.position = v.position;
      e.version = v.version;
      e.code = v.type_code;
      e.at = v.recorded_at_us;
      e.command_id = v.command_id;
      stage(e, v.stream, v.type, v.payload, v.metadata);
      return true;
    });
    if (!s.ok()) return s;
  } else {
    auto events = store_.read_all(from, limit);
    if (!events.ok()) return events.status();
    for (const es::RecordedEvent& r : *events) {
      ProjectedEvent e;
      e.position = r.position;
      e.version = r.version;
      e.code = r.type_code;
      e.at = r.recorded_at_us;
      e.command_id = r.command_id;
      stage(e, r.stream, r.type, r.payload, r.metadata);
    }
  }
  for (Batch::Staged& s : staged) {
    s.event.set_stream(s.stream);
    s.event.type = s.type;
    s.event.payload = &s.decoded.payload;
    s.event.actor = &s.decoded.actor;
  }
  return batch;
}

// A bulk pass (catch-up, rebuild) reads and decodes the next batch on a thread of
// its own while the projections fold the current one.
class Runner::ReadAhead {
 public:
  ReadAhead(const Runner& runner, std::uint64_t up_to) : runner_(runner), up_to_(up_to) {}
  ~ReadAhead() {
    if (next_.valid()) next_.wait();
  }
  void set_up_to(std::uint64_t up_to) { up_to_ = up_to; }

  // The batch from `from`: the one read ahead when it starts there, else read now.
  // Then starts reading the batch after it.
  es::Result<Batch> take(std::uint64_t from) {
    es::Result<Batch> batch = es::Status::ok_status();
    if (next_.valid() && next_from_ == from) {
      batch = next_.get();
    } else {
      if (next_.valid()) next_.wait();
      batch = runner_.read_batch(from, up_to_);
    }
    if (batch.ok() && !batch->staged.empty() && batch->staged.back().event.position < up_to_) {
      next_from_ = batch->staged.back().event.position + 1;
      next_ = std::async(std::launch::async,
                         [this, f = next_from_, to = up_to_] { return runner_.read_batch(f, to); });
    } else {
      next_ = {};
    }
    return batch;
  }

 private:
  const Runner& runner_;
  std::uint64_t up_to_;
  std::uint64_t next_from_ = 0;
  std::future<es::Result<Batch>> next_;
};

es::Result<std::size_t> Runner::apply_batch(std::vector<Target*>& targets, std::uint64_t up_to,
                                            ReadAhead* ahead) {
  const std::uint64_t low = lowest_checkpoint(targets);
  if (low == std::numeric_limits<std::uint64_t>::max() || low >= up_to) return std::size_t{0};
  const std::uint64_t from = low + 1;
  es::Result<Batch> read = ahead != nullptr ? ahead->take(from) : read_batch(from, up_to);
  if (!read.ok()) return read.status();
  const std::vector<Batch::Staged>& staged = read->staged;

  // Each projection folds the batch into its own WriteBatch, committed with its
  // checkpoint; projections fold in parallel.
  struct Lane {
    std::uint64_t reached = 0;
    std::optional<std::string> failure;
    es::Status written = es::Status::ok_status();
  };
  std::vector<Lane> lanes(targets.size());
  auto fold = [&](std::size_t i) {
    Target& t = *targets[i];
    Lane& lane = lanes[i];
    lane.reached = t.checkpoint;
    if (!t.active()) return;
    // Reserved up front (half a KiB an event, about what the audit log writes):
    // growing a batch of a few megabytes by doubling copies it.
    const std::size_t reserve = std::max<std::size_t>(1 << 20, staged.size() * 512);
    std::optional<WriteOnlyRows> write_only;
    std::optional<CachedRows> cached;
    if (t.projection->reads_rows()) {
      t.rows.serve(t.prefix);
      cached.emplace(t.rows, options_.row_cache_bytes, db_.db(), t.prefix);
    } else {
      write_only.emplace(t.prefix, reserve);
    }
    LaneRows& rows = cached ? static_cast<LaneRows&>(*cached) : *write_only;
    for (const Batch::Staged& s : staged) {
      const ProjectedEvent& e = s.event;
      if (lane.failure || lane.reached >= e.position) continue;
      std::optional<std::string> error = s.decoded.error;
      if (!error) {
        rows.begin_event();
        error = t.projection->apply(e, rows);
        if (auto unreadable = rows.read_error(); unreadable && !error) error = unreadable;
        rows.end_event(!error);
      }
      if (error) {
        lane.failure = "position " + std::to_string(e.position) + " (" + std::string(e.stream) + " version " +
                       std::to_string(e.version) + ", " + std::string(e.type) + "): " + *error;
        continue;
      }
      lane.reached = e.position;
    }
    rocksdb::WriteBatch& batch = rows.batch(t.prefix);
    if (lane.reached != t.checkpoint) {
      std::string value;
      keys::put_u64(value, lane.reached);
      (void)batch.Put(ProjectionDb::checkpoint_key(t.projection->name(), t.generation.number), value);
    }
    if (batch.Count() > 0) lane.written = db_.write(batch);
    rows.committed(lane.written.ok());
  };
  // Threads pay off on a catch-up or rebuild batch; a live runner's batches are a
  // few events every couple of milliseconds, where starting threads would cost more
  // than folding.
  constexpr std::size_t kParallelFrom = 256;
  std::vector<std::thread> helpers;
  for (std::size_t i = 1; i < targets.size(); ++i) {
    if (staged.size() >= kParallelFrom) {
      helpers.emplace_back(fold, i);
    } else {
      fold(i);
    }
  }
  if (!targets.empty()) fold(0);
  for (auto& h : helpers) h.join();

  std::optional<es::Status> error;
  {
    std::lock_guard lock(state_mu_);
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (!lanes[i].written.ok()) {
        if (!error) error = lanes[i].written;
        continue;  // nothing of this lane was committed
      }
      targets[i]->checkpoint = lanes[i].reached;
      if (lanes[i].failure) targets[i]->failure = lanes[i].failure;
    }
    changes_.fetch_add(1, std::memory_order_release);
  }
  advanced_.notify_all();
  if (error) return *error;
  return staged.size();
}

es::Status Runner::catch_up(const ProgressFn& progress, std::optional<std::uint64_t> up_to) {
  std::vector<Target*> targets;
  for (auto& t : serving_) targets.push_back(t.get());
  const std::uint64_t goal = std::min(store_.last_position(), up_to.value_or(store_.last_position()));
  ProgressMeter meter(progress, std::min(goal, lowest_checkpoint(targets)), goal);
  ReadAhead ahead(*this, goal);
  while (true) {
    std::lock_guard lock(apply_mu_);
    auto n = apply_batch(targets, goal, &ahead);
    if (!n.ok()) return n.status();
    const std::uint64_t low = lowest_checkpoint(targets);
    meter.at(std::min(low, goal));
    if (*n == 0) break;
  }
  meter.at(goal, true);
  return es::Status::ok_status();
}

void Runner::start() {
  if (follower_.joinable()) return;
  stopping_ = false;
  follower_ = std::thread([this] { follow(); });
}

void Runner::stop() {
  stopping_ = true;
  if (follower_.joinable()) follower_.join();
}

void Runner::follow() {
  std::vector<Target*> targets;
  for (auto& t : serving_) targets.push_back(t.get());
  while (!stopping_) {
    es::Result<std::size_t> n = std::size_t{0};
    {
      std::lock_guard lock(apply_mu_);
      targets.clear();
      for (auto& t : serving_) targets.push_back(t.get());
      n = apply_batch(targets, store_.last_position());
    }
    if (!n.ok()) {
      {
        std::lock_guard lock(state_mu_);
        follow_error_ = n.status();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (*n == 0) std::this_thread::sleep_for(options_.idle_poll);
  }
}

std::vector<ProjectionStatus> Runner::status() const {
  std::lock_guard lock(state_mu_);
  std::vector<ProjectionStatus> out;
  for (const auto& t : serving_) {
    out.push_back({std::string(t->projection->name()), t->projection->version(), t->generation.number,
                   t->checkpoint, t->failure});
  }
  return out;
}

std::optional<ProjectionStatus> Runner::status(std::string_view name) const {
  for (auto& s : status())
    if (s.name == name) return s;
  return std::nullopt;
}

std::uint64_t Runner::lag() const {
  const std::uint64_t last = store_.last_position();
  std::uint64_t lag = 0;
  std::lock_guard lock(state_mu_);
  for (const auto& t : serving_)
    if (t->active()) lag = std::max(lag, last > t->checkpoint ? last - t->checkpoint : 0);
  return lag;
}

es::Status Runner::wait_for(std::string_view name, std::uint64_t min_position,
                            std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_mu_);
  const Target* target = nullptr;
  for (const auto& t : serving_)
    if (t->projection->name() == name) target = t.get();
  if (target == nullptr) return es::Status::not_found("no projection named " + std::string(name));
  const bool reached = advanced_.wait_for(lock, timeout, [&] {
    // The target may be swapped by a rebuild; look it up again.
    for (const auto& t : serving_)
      if (t->projection->name() == name) target = t.get();
    return target->checkpoint >= min_position || target->failure.has_value();
  });
  if (target->failure) {
    return es::Status::failed_precondition("projection " + std::string(name) + " stopped at " +
                                           *target->failure);
  }
  if (!reached) {
    return es::Status::unavailable("projection " + std::string(name) + " has not reached position " +
                                   std::to_string(min_position) + " within " +
                                   std::to_string(timeout.count()) + " ms (it is at " +
                                   std::to_string(target->checkpoint) + "); try again shortly");
  }
  return es::Status::ok_status();
}

es::Status Runner::rebuild(const std::vector<std::string>& names, const ProgressFn& progress) {
  // Every name is checked before anything is written.
  for (const auto& n : names) {
    if (std::none_of(projections_.begin(), projections_.end(),
                     [&](const auto& p) { return p->name() == n; })) {
      std::string known;
      for (const auto& p : projections_) known += (known.empty() ? "" : ", ") + std::string(p->name());
      return es::Status::invalid_argument("no projection named '" + n + "'; known: " + known);
    }
  }
  std::vector<std::unique_ptr<Target>> building;
  std::vector<std::size_t> serving_index;
  for (std::size_t i = 0; i < projections_.size(); ++i) {
    const std::string name(projections_[i]->name());
    if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) continue;
    auto t = std::make_unique<Target>();
    t->projection = projections_[i].get();
    std::optional<Generation> resumed = db_.building(name);
    Generation gen;
    if (resumed && resumed->version == t->projection->version()) {
      gen = *resumed;  // a rebuild a crash interrupted: go on from its checkpoint
    } else {
      gen = Generation{std::max(serving_[i]->generation.number, resumed ? resumed->number : 0) + 1,
                       t->projection->version()};
      if (resumed) {
        if (auto s = db_.drop(name, resumed->number); !s.ok()) return s;
      }
      rocksdb::WriteBatch batch;
      (void)batch.Put(ProjectionDb::building_key(name), ProjectionDb::encode_generation(gen));
      if (auto s = db_.write(batch); !s.ok()) return s;
    }
    t->generation = gen;
    t->prefix = ProjectionDb::row_prefix(name, gen.number);
    t->checkpoint = db_.checkpoint(name, gen.number);
    building.push_back(std::move(t));
    serving_index.push_back(i);
  }
  if (building.empty()) return es::Status::ok_status();

  std::vector<Target*> targets;
  for (auto& t : building) targets.push_back(t.get());
  auto failed = [&]() -> std::optional<es::Status> {
    for (const auto* t : targets) {
      if (t->failure) {
        return es::Status::failed_precondition("rebuilding " + std::string(t->projection->name()) +
                                               " stopped at " + *t->failure);
      }
    }
    return std::nullopt;
  };
  // Most of the log without holding up the serving generations ...
  ProgressMeter meter(progress, lowest_checkpoint(targets), store_.last_position());
  ReadAhead ahead(*this, store_.last_position());
  while (true) {
    const std::uint64_t last = store_.last_position();
    if (lowest_checkpoint(targets) + options_.batch_events >= last) break;
    ahead.set_up_to(last);
    auto n = apply_batch(targets, last, &ahead);
    if (!n.ok()) return n.status();
    if (auto f = failed()) return *f;
    meter.grow_to(last);
    meter.at(lowest_checkpoint(targets));
  }
  // ... then the tail with the serving generations paused, and the switch.
  std::lock_guard lock(apply_mu_);
  while (true) {
    auto n = apply_batch(targets, store_.last_position());
    if (!n.ok()) return n.status();
    if (auto f = failed()) return *f;
    if (*n == 0) break;
  }
  meter.grow_to(store_.last_position());
  meter.at(store_.last_position(), true);
  rocksdb::WriteBatch batch;
  for (const auto& t : building) {
    const std::string name(t->projection->name());
    (void)batch.Put(ProjectionDb::serving_key(name), ProjectionDb::encode_generation(t->generation));
    (void)batch.Delete(ProjectionDb::building_key(name));
  }
  if (auto s = db_.write_generations(batch); !s.ok()) return s;
  std::vector<std::pair<std::string, std::uint64_t>> old;
  {
    std::lock_guard state(state_mu_);
    for (std::size_t k = 0; k < building.size(); ++k) {
      auto& slot = serving_[serving_index[k]];
      old.emplace_back(std::string(slot->projection->name()), slot->generation.number);
      slot = std::move(building[k]);
    }
    changes_.fetch_add(1, std::memory_order_release);
  }
  advanced_.notify_all();
  // Queries re-read when the generation they read was switched meanwhile
  // (ProjectionDb::read_serving), so the old one can go at once.
  for (const auto& [name, number] : old) {
    if (auto s = db_.drop(name, number); !s.ok()) return s;
  }
  return es::Status::ok_status();
}

}  // namespace portal::projections
