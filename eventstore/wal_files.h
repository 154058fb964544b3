// The write-ahead log files of a store in sync durability: what the store needs
// of them beyond RocksDB's own handling. WalFileSystem wraps RocksDB's file
// system; only WAL files (`*.log`) are treated differently.
//
// 1. Zeros ahead, so that syncs overwrite blocks already on disk.
//
// On ext4 (and most journalling file systems), syncing an append that grows a
// file also commits metadata: the new size and the blocks just allocated. Syncing
// an overwrite of blocks that were written and synced before commits only the
// data. RocksDB's WAL only ever grows, so every sync of the sync-mode store paid
// for a journal commit. Measured on this project's machine, an append of 16 KiB
// and its fdatasync took 450 - 690 us into a growing file and 300 - 500 us into
// one already written (PostgreSQL zero-fills new WAL segments for the same
// reason).
//
// For each WAL file a background thread keeps a stretch of zeros, written and
// synced, ahead of what RocksDB has appended; RocksDB's appends then overwrite
// those zeros. The stretch grows with the log (as long as the log, at least
// 1 MiB, at most max_ahead; 0 turns zeros off), and a log that stays smaller than
// start_after is never filled, so short-lived and idle stores write nothing extra.
//
// - The zeros are written only past what RocksDB has appended or is appending
//   (an append waits while a fill covers its bytes), so no appended byte is ever
//   overwritten.
// - A log closed normally is cut back to what RocksDB wrote.
// - A log left with zeros after its last record (a crash) replays to that
//   record: RocksDB's log reader skips a zero header (a zero-length record of
//   type zero) as padding, as it has since preallocated log files existed. The
//   crash tests reopen such logs on every cycle.
// - The zeros take at most max_ahead of disk beyond what RocksDB wrote, mostly
//   inside the space RocksDB already preallocates for its WAL.
// - A failed fill (disk full, say) stops filling that file.
//
// Where they help: file systems that overwrite in place (ext4, xfs). On
// copy-on-write ones (btrfs, zfs) an overwrite allocates anew, so the zeros only
// double what the log writes: turn them off there (RocksDbOptions::log_prefill_bytes = 0).
//
// 2. A failed write of the log is reported by the next sync.
//
// RocksDB's log writer must not be synced once one of its writes failed (Debian's
// build asserts, and so aborts the process), but the store syncs on its own
// thread while the next group is being written: a write that fails (a full disk)
// can precede a sync that has already started. So a failed write of any WAL file
// fails-stop all of them: that write and every later one is dropped (RocksDB is
// told it succeeded), and every sync of a WAL file from then on fails with the
// write's error. In sync durability nothing is acknowledged before a sync covers
// it, so no dropped write is ever acknowledged: the appends in flight fail with
// the error, the store refuses appends until reopened, and the next open recovers
// what reached the disk. (Buffered durability, which acknowledges without a sync,
// does not use this file system.)
#pragma once

#include <rocksdb/file_system.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace portal::eventstore {

class WalFile;

class WalFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  struct Options {
    std::size_t max_ahead = 32u << 20;     // most zeros kept ahead of a log's end; 0: none
    std::size_t start_after = 256u << 10;  // a log smaller than this is not filled
  };

  WalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, Options options);
  ~WalFileSystem() override;  // every file it opened must be closed or destroyed first

  static const char* kClassName() { return "PortalWalFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& file_opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;

  // Bytes of zeros written ahead of logs since construction.
  std::uint64_t prefilled_bytes() const { return prefilled_bytes_.load(std::memory_order_relaxed); }

  // The first failed write or sync of a WAL file (OK while none failed).
  rocksdb::IOStatus failure() const;

 private:
  friend class WalFile;

  // A log asks for a fill; the worker runs one fill at a time.
  void request(WalFile* log);
  // Called by a log before it closes or is destroyed: returns once no fill of it
  // runs or is queued.
  void forget(WalFile* log);
  void worker_main();
  // Records the first failure of a WAL file; from then on WAL writes are dropped
  // and WAL syncs fail with it.
  void fail(const rocksdb::IOStatus& s);
  bool failed() const { return failed_.load(std::memory_order_acquire); }

  const Options options_;
  std::atomic<std::uint64_t> prefilled_bytes_{0};
  std::atomic<bool> failed_{false};
  mutable std::mutex failure_mu_;
  rocksdb::IOStatus failure_;  // guarded by failure_mu_
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WalFile*> wanted_;  // guarded by mu_
  WalFile* busy_ = nullptr;      // guarded by mu_: the log being filled
  bool stop_ = false;            // guarded by mu_
  std::thread worker_;           // started on first request; guarded by mu_
};

}  // namespace portal::eventstore
