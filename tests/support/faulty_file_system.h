// A file system under RocksDB that fails on demand: a full disk (every write
// fails with "no space"), a disk that refuses only table files or only the
// MANIFEST (the log keeps the room it already took, as a preallocated WAL
// does), failing syncs, or failing reads of table files. For the tests of what
// the store does when the disk refuses it.
#pragma once

#include <rocksdb/file_system.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace portal::eventstore::test {

class FaultyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultyFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "FaultyFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // From now on every write of every file fails with "no space".
  void fill() { faults_->full = true; }
  // From now on table files (*.sst: flushes and compactions) cannot be
  // created or written ("no space"); the log and the MANIFEST still can.
  void fill_tables() { faults_->full_kinds |= kTable; }
  // From now on the MANIFEST (the record of which table files make the store)
  // cannot be created or written; the log and table files still can.
  void fill_manifest() { faults_->full_kinds |= kManifest; }
  // From now on every sync fails with an I/O error.
  void fail_syncs() { faults_->syncs_fail = true; }
  // From now on every read of a table file (*.sst) fails with an I/O error, also
  // through files opened before.
  void fail_table_reads() { faults_->table_reads_fail = true; }
  // Writes and syncs work again.
  void heal() {
    faults_->full = false;
    faults_->full_kinds = 0;
    faults_->syncs_fail = false;
    faults_->table_reads_fail = false;
  }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    const unsigned kind = kind_of(fname);
    if (faults_->full || (faults_->full_kinds & kind) != 0) return no_space();
    rocksdb::IOStatus s = target()->NewWritableFile(fname, options, result, dbg);
    if (s.ok()) *result = std::make_unique<File>(std::move(*result), faults_, kind);
    return s;
  }

  rocksdb::IOStatus NewRandomAccessFile(const std::string& fname, const rocksdb::FileOptions& options,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                                        rocksdb::IODebugContext* dbg) override {
    const bool table = kind_of(fname) == kTable;
    if (table && faults_->table_reads_fail) return read_error();
    rocksdb::IOStatus s = target()->NewRandomAccessFile(fname, options, result, dbg);
    if (s.ok() && table) *result = std::make_unique<TableReader>(std::move(*result), faults_);
    return s;
  }

 private:
  static constexpr unsigned kTable = 1, kManifest = 2, kOther = 4;
  static unsigned kind_of(const std::string& fname) {
    if (fname.ends_with(".sst")) return kTable;
    if (fname.find("/MANIFEST-") != std::string::npos) return kManifest;
    return kOther;
  }

  struct Faults {
    std::atomic<bool> full{false};
    std::atomic<unsigned> full_kinds{0};
    std::atomic<bool> syncs_fail{false};
    std::atomic<bool> table_reads_fail{false};
  };
  static rocksdb::IOStatus no_space() {
    return rocksdb::IOStatus::NoSpace("no space left on device (injected)");
  }
  static rocksdb::IOStatus read_error() {
    return rocksdb::IOStatus::IOError("pread: input/output error (injected)");
  }
  static rocksdb::IOStatus sync_error() {
    return rocksdb::IOStatus::IOError("fdatasync: input/output error (injected)");
  }

  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, std::shared_ptr<Faults> faults, unsigned kind)
        : FSWritableFileOwnerWrapper(std::move(file)), faults_(std::move(faults)), kind_(kind) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      return full() ? no_space() : target()->Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      return full() ? no_space() : target()->Append(data, options, info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      return faults_->syncs_fail ? sync_error() : target()->Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      return faults_->syncs_fail ? sync_error() : target()->Fsync(options, dbg);
    }

   private:
    bool full() const { return faults_->full || (faults_->full_kinds & kind_) != 0; }

    std::shared_ptr<Faults> faults_;
    const unsigned kind_;
  };

  class TableReader final : public rocksdb::FSRandomAccessFileOwnerWrapper {
   public:
    TableReader(std::unique_ptr<rocksdb::FSRandomAccessFile> file, std::shared_ptr<Faults> faults)
        : FSRandomAccessFileOwnerWrapper(std::move(file)), faults_(std::move(faults)) {}
    rocksdb::IOStatus Read(std::uint64_t offset, std::size_t n, const rocksdb::IOOptions& options,
                           rocksdb::Slice* result, char* scratch,
                           rocksdb::IODebugContext* dbg) const override {
      if (faults_->table_reads_fail) return read_error();
      return target()->Read(offset, n, options, result, scratch, dbg);
    }
    rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest* reqs, std::size_t num_reqs,
                                const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (faults_->table_reads_fail) {
        for (std::size_t i = 0; i < num_reqs; ++i) reqs[i].status = read_error();
        return read_error();
      }
      return target()->MultiRead(reqs, num_reqs, options, dbg);
    }

   private:
    std::shared_ptr<Faults> faults_;
  };

  std::shared_ptr<Faults> faults_ = std::make_shared<Faults>();
};

}  // namespace portal::eventstore::test
