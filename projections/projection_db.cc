#include "portal/projections/projection_db.h"

#include <openssl/evp.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <memory>

#include "keys.h"
#include "lists.h"

namespace portal::projections {

namespace es = eventstore;

namespace {

es::Status from_rocksdb(const rocksdb::Status& s, const std::string& doing) {
  if (s.ok()) return es::Status::ok_status();
  const std::string msg = doing + ": " + s.ToString();
  if (s.IsCorruption()) return es::Status::corruption(msg);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return es::Status::unavailable(msg +
                                   " (is another process, such as portald, using this data directory?)");
  }
  if (s.IsIOError() || s.IsNoSpace()) return es::Status::io_error(msg);
  return es::Status::unavailable(msg);
}

// Rows of one series ('R' name 0x00 gen, then a one-byte tag and a 16-byte id)
// are mostly appended in key order (an audit index grows by time): RocksDB keeps an
// insert hint per series, so such inserts skip the memtable's search.
class RowSeries final : public rocksdb::SliceTransform {
 public:
  static constexpr std::size_t kAfterName = 1 + 8 + 1 + 16;  // 0x00, gen, tag, id
  const char* Name() const override { return "portal.RowSeries"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* zero = std::memchr(key.data(), '\0', key.size());
    return {key.data(), static_cast<std::size_t>(static_cast<const char*>(zero) - key.data()) + kAfterName};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    if (key.empty() || key[0] != 'R') return false;
    const void* zero = std::memchr(key.data(), '\0', key.size());
    return zero != nullptr &&
           static_cast<std::size_t>(static_cast<const char*>(zero) - key.data()) + kAfterName <= key.size();
  }
};

std::string named(char tag, std::string_view name) {
  std::string key(1, tag);
  key.append(name);
  return key;
}

}  // namespace

std::string ProjectionDb::serving_key(std::string_view name) {
  return named('M', name);
}
std::string ProjectionDb::building_key(std::string_view name) {
  return named('B', name);
}

std::string ProjectionDb::checkpoint_key(std::string_view name, std::uint64_t generation) {
  std::string key = named('C', name);
  key.push_back('\0');
  keys::put_u64(key, generation);
  return key;
}

std::string ProjectionDb::row_prefix(std::string_view name, std::uint64_t generation) {
  std::string key = named('R', name);
  key.push_back('\0');
  keys::put_u64(key, generation);
  return key;
}

std::string ProjectionDb::encode_generation(const Generation& g) {
  std::string out;
  keys::put_u64(out, g.number);
  keys::put_u32(out, g.version);
  return out;
}

es::Result<std::unique_ptr<ProjectionDb>> ProjectionDb::open(const std::string& path, bool read_only) {
  rocksdb::Options options;
  options.create_if_missing = !read_only;
  options.compression = rocksdb::kNoCompression;
  // A rebuild or a long catch-up writes millions of rows: compacting level 0 when
  // 8 memtables have been flushed, not 4, merges fewer and larger runs (about a
  // tenth less CPU for a 1,000,000-event rebuild); reads check at most 8 more files.
  options.level0_file_num_compaction_trigger = 8;
  options.memtable_insert_with_hint_prefix_extractor = std::make_shared<RowSeries>();
  // RocksDB uses the hints only for writes it does not insert concurrently: the
  // projections' lanes commit at the same moment, and without this their rows
  // would be inserted in parallel but unhinted (without hints a rebuild is a
  // third slower; inserted one batch after the other, hinted, a few % faster).
  options.allow_concurrent_memtable_write = false;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(options, path, &raw) : rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return from_rocksdb(s, "opening the projections database " + path);
  std::unique_ptr<ProjectionDb> db(new ProjectionDb);
  db->db_.reset(raw);
  db->read_only_ = read_only;
  return db;
}

ProjectionDb::~ProjectionDb() {
  if (!db_) return;
  // Memtables to table files, so that the next open does not replay the WAL.
  if (!read_only_) (void)db_->Flush(rocksdb::FlushOptions());
  (void)db_->Close();
}

std::optional<Generation> ProjectionDb::generation_at(const std::string& key) const {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), key, &value).ok() || value.size() != 12) return std::nullopt;
  return Generation{keys::get_u64(value), keys::get_u32(std::string_view(value).substr(8))};
}

std::optional<Generation> ProjectionDb::serving(std::string_view name) const {
  {
    std::lock_guard lock(serving_mu_);
    if (auto it = serving_cache_.find(name); it != serving_cache_.end()) return it->second;
  }
  std::optional<Generation> g = generation_at(serving_key(name));
  std::lock_guard lock(serving_mu_);
  serving_cache_.emplace(std::string(name), g);
  return g;
}
std::optional<Generation> ProjectionDb::building(std::string_view name) const {
  return generation_at(building_key(name));
}

void ProjectionDb::read_serving(std::string_view name,
                                const std::function<void(std::uint64_t generation)>& read) const {
  std::optional<Generation> gen = serving(name);
  while (gen) {
    read(gen->number);
    const std::optional<Generation> now = serving(name);
    if (now == gen) return;
    gen = now;  // switched while reading: the rows read may be partial
  }
}

std::uint64_t ProjectionDb::checkpoint(std::string_view name, std::uint64_t generation) const {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), checkpoint_key(name, generation), &value).ok() || value.size() != 8) {
    return 0;
  }
  return keys::get_u64(value);
}

std::optional<std::string> ProjectionDb::get(std::string_view name, std::uint64_t generation,
                                             std::string_view key) const {
  std::string full = row_prefix(name, generation);
  full.append(key);
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), full, &value).ok()) return std::nullopt;
  return value;
}

std::vector<std::optional<std::string>> ProjectionDb::get_many(std::string_view name,
                                                               std::uint64_t generation,
                                                               const std::vector<std::string>& keys) const {
  const std::string base = row_prefix(name, generation);
  std::vector<std::string> full(keys.size());
  std::vector<rocksdb::Slice> slices(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    full[i] = base + keys[i];
    slices[i] = full[i];
  }
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), keys.size(), slices.data(), values.data(),
                statuses.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) out[i] = values[i].ToString();
  }
  return out;
}

void ProjectionDb::scan(std::string_view name, std::uint64_t generation, std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& visit) const {
  scan_from(name, generation, prefix, prefix, visit);
}

void ProjectionDb::scan_from(std::string_view name, std::uint64_t generation, std::string_view prefix,
                             std::string_view from,
                             const std::function<bool(std::string_view, std::string_view)>& visit) const {
  const std::string base = row_prefix(name, generation);
  std::string start = base + std::string(from);
  std::string full_prefix = base + std::string(prefix);
  const std::string end = keys::successor(full_prefix);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(end);
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(start); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(full_prefix)) break;
    if (!visit(key.substr(base.size()), std::string_view(it->value().data(), it->value().size()))) break;
  }
}

void ProjectionDb::scan_back_from(std::string_view name, std::uint64_t generation, std::string_view prefix,
                                  std::string_view from,
                                  const std::function<bool(std::string_view, std::string_view)>& visit) const {
  const std::string base = row_prefix(name, generation);
  const std::string full_prefix = base + std::string(prefix);
  const std::string start = base + std::string(from);
  rocksdb::ReadOptions ro;
  rocksdb::Slice lower(full_prefix);
  ro.iterate_lower_bound = &lower;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->SeekForPrev(start); it->Valid(); it->Prev()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(full_prefix)) break;
    if (!visit(key.substr(base.size()), std::string_view(it->value().data(), it->value().size()))) break;
  }
}

namespace {
es::Status damaged_chunk(std::string_view name, std::uint64_t generation, std::string_view chunk_key) {
  return es::Status::corruption("a chunk of list " + keys::hex(chunk_key.substr(1)) + " of projection '" +
                                std::string(name) + "' generation " + std::to_string(generation) +
                                " is damaged; run portalctl verify and rebuild the projection");
}
}  // namespace

es::Status ProjectionDb::scan_list(std::string_view name, std::uint64_t generation, std::string_view list,
                                   std::string_view from, bool backwards,
                                   const std::function<bool(std::string_view)>& visit) const {
  const std::string base = row_prefix(name, generation);
  const std::string chunks = base + lists::chunk_key(list, "");
  const std::string end = keys::successor(chunks);
  rocksdb::ReadOptions ro;
  const rocksdb::Slice lower(chunks);
  const rocksdb::Slice upper(end);
  ro.iterate_lower_bound = &lower;
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  // The chunk that holds `from`, or the member nearest it, is the last one that
  // starts at or before it; forwards, every chunk may start after it.
  it->SeekForPrev(chunks + std::string(from));
  if (!backwards && !it->Valid()) it->Seek(chunks);
  for (; it->Valid(); backwards ? it->Prev() : it->Next()) {
    lists::Chunk c;
    const std::string_view key(it->key().data() + base.size(), it->key().size() - base.size());
    if (!lists::parse(key, std::string_view(it->value().data(), it->value().size()), c)) {
      return damaged_chunk(name, generation, key);
    }
    if (c.list != list) continue;  // another list whose name starts with this one's
    for (std::size_t k = 0; k < c.size(); ++k) {
      const std::string_view member = c.member(backwards ? c.size() - 1 - k : k);
      if (backwards ? member > from : member < from) continue;
      if (!visit(member)) return es::Status::ok_status();
    }
  }
  if (!it->status().ok())
    return from_rocksdb(it->status(), "reading a list of projection " + std::string(name));
  return es::Status::ok_status();
}

es::Status ProjectionDb::scan_lists(
    std::string_view name, std::uint64_t generation, std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  es::Status status;
  scan(name, generation, lists::chunk_key(prefix, ""), [&](std::string_view key, std::string_view value) {
    lists::Chunk c;
    if (!lists::parse(key, value, c)) {
      status = damaged_chunk(name, generation, key);
      return false;
    }
    for (std::size_t k = 0; k < c.size(); ++k) {
      if (!visit(c.list, c.member(k))) return false;
    }
    return true;
  });
  return status;
}

void ProjectionDb::scan_canonical(
    std::string_view name, std::uint64_t generation,
    const std::function<void(std::string_view, std::string_view)>& visit) const {
  std::string member_key;
  scan(name, generation, "", [&](std::string_view key, std::string_view value) {
    lists::Chunk c;
    if (!lists::parse(key, value, c)) {
      visit(key, value);
      return true;
    }
    member_key = lists::chunk_key(c.list, "");
    for (std::size_t k = 0; k < c.size(); ++k) {
      member_key.resize(1 + c.list.size());
      member_key.append(c.member(k));
      visit(member_key, {});
    }
    return true;
  });
}

std::string ProjectionDb::digest(std::string_view name, std::uint64_t generation) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  scan_canonical(name, generation, [&](std::string_view key, std::string_view value) {
    std::string lengths;
    keys::put_u64(lengths, key.size());
    keys::put_u64(lengths, value.size());
    EVP_DigestUpdate(ctx.get(), lengths.data(), lengths.size());
    EVP_DigestUpdate(ctx.get(), key.data(), key.size());
    EVP_DigestUpdate(ctx.get(), value.data(), value.size());
  });
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return keys::hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::uint64_t ProjectionDb::row_count(std::string_view name, std::uint64_t generation) const {
  std::uint64_t n = 0;
  scan_canonical(name, generation, [&](std::string_view, std::string_view) { ++n; });
  return n;
}

es::Status ProjectionDb::write(rocksdb::WriteBatch& batch) {
  if (read_only_) return es::Status::failed_precondition("the projections database is open read-only");
  return from_rocksdb(db_->Write(rocksdb::WriteOptions(), &batch), "writing projection rows");
}

es::Status ProjectionDb::write_generations(rocksdb::WriteBatch& batch) {
  auto s = write(batch);
  // Forgotten after the write, before anything is dropped: a query that read the
  // old generation re-checks and sees the switch (read_serving).
  std::lock_guard lock(serving_mu_);
  serving_cache_.clear();
  return s;
}

es::Status ProjectionDb::drop(std::string_view name, std::uint64_t generation) {
  rocksdb::WriteBatch batch;
  const std::string prefix = row_prefix(name, generation);
  auto s = batch.DeleteRange(prefix, keys::successor(prefix));
  if (s.ok()) s = batch.Delete(checkpoint_key(name, generation));
  if (!s.ok()) return from_rocksdb(s, "dropping a projection generation");
  return write(batch);
}

}  // namespace portal::projections
