// Write-ahead log files that are written into blocks already on disk.
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
// LogPrefillFileSystem wraps RocksDB's file system. For each WAL file (`*.log`)
// a background thread keeps a stretch of zeros, written and synced, ahead of
// what RocksDB has appended; RocksDB's appends then overwrite those zeros. The
// stretch grows with the log (as long as the log, at least 1 MiB, at most
// max_ahead), and a log that stays smaller than start_after is never filled, so
// short-lived and idle stores write nothing extra.
//
// Safety:
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
// - A failed fill (disk full, say) stops filling that file; RocksDB's own
//   appends and syncs report their own errors as before.
//
// Where it helps: file systems that overwrite in place (ext4, xfs). On
// copy-on-write ones (btrfs, zfs) an overwrite allocates anew, so the zeros only
// double what the log writes: turn it off there (RocksDbOptions::log_prefill_bytes = 0).
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

class PrefilledLog;

class LogPrefillFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  struct Options {
    std::size_t max_ahead = 32u << 20;     // most zeros kept ahead of a log's end
    std::size_t start_after = 256u << 10;  // a log smaller than this is not filled
  };

  LogPrefillFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, Options options);
  ~LogPrefillFileSystem() override;  // every file it opened must be closed or destroyed first

  static const char* kClassName() { return "PortalLogPrefillFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& file_opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;

  // Bytes of zeros written ahead of logs since construction.
  std::uint64_t prefilled_bytes() const { return prefilled_bytes_.load(std::memory_order_relaxed); }

 private:
  friend class PrefilledLog;

  // A log asks for a fill; the worker runs one fill at a time.
  void request(PrefilledLog* log);
  // Called by a log before it closes or is destroyed: returns once no fill of it
  // runs or is queued.
  void forget(PrefilledLog* log);
  void worker_main();

  const Options options_;
  std::atomic<std::uint64_t> prefilled_bytes_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PrefilledLog*> wanted_;  // guarded by mu_
  PrefilledLog* busy_ = nullptr;      // guarded by mu_: the log being filled
  bool stop_ = false;                 // guarded by mu_
  std::thread worker_;                // started on first request; guarded by mu_
};

}  // namespace portal::eventstore
