// The projections' own RocksDB database (data-dir/projections). Keys:
//
//   'M' name               -> serving generation: gen (BE u64), version (BE u32)
//   'B' name               -> generation being rebuilt, same encoding (absent: none)
//   'C' name 0x00 gen      -> checkpoint: the last log position folded in (BE u64)
//   'R' name 0x00 gen key  -> a row of that generation; keys starting 0xff hold
//                             lists (Rows::append), a chunk of members each
//
// A batch of rows and its checkpoint go in one WriteBatch; switching a rebuilt
// generation in is the one write of its 'M' record.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portal/eventstore/status.h"

namespace portal::projections {

struct Generation {
  std::uint64_t number = 0;
  std::uint32_t version = 0;
  friend bool operator==(const Generation&, const Generation&) = default;
};

class ProjectionDb {
 public:
  // read_only: for tools beside a running server (sees what was committed at open).
  static eventstore::Result<std::unique_ptr<ProjectionDb>> open(const std::string& path,
                                                                bool read_only = false);
  ~ProjectionDb();
  ProjectionDb(const ProjectionDb&) = delete;
  ProjectionDb& operator=(const ProjectionDb&) = delete;

  bool read_only() const { return read_only_; }
  rocksdb::DB* db() { return db_.get(); }

  std::optional<Generation> serving(std::string_view name) const;
  // Runs read(generation) on the serving generation of `name` (not at all when
  // there is none), again if a rebuild switched generations meanwhile: a query
  // never returns rows of a generation dropped under it.
  void read_serving(std::string_view name, const std::function<void(std::uint64_t generation)>& read) const;
  std::optional<Generation> building(std::string_view name) const;
  std::uint64_t checkpoint(std::string_view name, std::uint64_t generation) const;  // 0: nothing folded

  std::optional<std::string> get(std::string_view name, std::uint64_t generation, std::string_view key) const;
  // Several rows in one lookup (RocksDB's MultiGet), in the order of keys.
  std::vector<std::optional<std::string>> get_many(std::string_view name, std::uint64_t generation,
                                                   const std::vector<std::string>& keys) const;
  // Committed rows whose key starts with prefix, in order (keys without the
  // generation prefix); stops when visit returns false.
  void scan(std::string_view name, std::uint64_t generation, std::string_view prefix,
            const std::function<bool(std::string_view key, std::string_view value)>& visit) const;
  // Like scan, from `from` (>= prefix) on.
  void scan_from(std::string_view name, std::uint64_t generation, std::string_view prefix,
                 std::string_view from,
                 const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // Like scan_from, backwards: rows whose key starts with prefix and is at most
  // `from`, newest key first.
  void scan_back_from(std::string_view name, std::uint64_t generation, std::string_view prefix,
                      std::string_view from,
                      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // The members of a list (Rows::append) in order: forwards from the first member
  // >= from, or backwards from the last member <= from; stops when visit returns
  // false. A member is compared with `from` as bytes, so a shorter `from` (a time
  // without a position) falls before every member it starts. A damaged chunk is a
  // corruption error.
  eventstore::Status scan_list(std::string_view name, std::uint64_t generation, std::string_view list,
                               std::string_view from, bool backwards,
                               const std::function<bool(std::string_view member)>& visit) const;

  // Every member of every list whose name starts with prefix, list by list, in
  // order; stops when visit returns false. A damaged chunk is a corruption error.
  eventstore::Status scan_lists(
      std::string_view name, std::uint64_t generation, std::string_view prefix,
      const std::function<bool(std::string_view list, std::string_view member)>& visit) const;

  // SHA-256 (hex) over every row of a generation, keys and values, a list counting
  // as one row per member (however batches grouped them): equal digests, equal
  // read models.
  std::string digest(std::string_view name, std::uint64_t generation) const;
  // Rows as digest() counts them.
  std::uint64_t row_count(std::string_view name, std::uint64_t generation) const;

  eventstore::Status write(rocksdb::WriteBatch& batch);
  // A write that may set serving generations ('M' records): the in-memory copy of
  // them that serving() keeps is refreshed after it.
  eventstore::Status write_generations(rocksdb::WriteBatch& batch);
  // Deletes a generation's rows and checkpoint.
  eventstore::Status drop(std::string_view name, std::uint64_t generation);

  // Key encodings.
  static std::string serving_key(std::string_view name);
  static std::string building_key(std::string_view name);
  static std::string checkpoint_key(std::string_view name, std::uint64_t generation);
  static std::string row_prefix(std::string_view name, std::uint64_t generation);
  static std::string encode_generation(const Generation& g);

 private:
  ProjectionDb() = default;
  // Every row of a generation as digest() sees it: a list's chunk as one row per
  // member (key: the chunk tag, list, member; empty value).
  void scan_canonical(std::string_view name, std::uint64_t generation,
                      const std::function<void(std::string_view key, std::string_view value)>& visit) const;
  std::optional<Generation> generation_at(const std::string& key) const;

  std::unique_ptr<rocksdb::DB> db_;
  bool read_only_ = false;
  // serving() answers from memory: every read of a read model asks it, and only
  // write_generations() changes it (a switch, a new projection).
  mutable std::mutex serving_mu_;
  mutable std::map<std::string, std::optional<Generation>, std::less<>> serving_cache_;
};

}  // namespace portal::projections
