#include "wal_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace portal::eventstore {

namespace {

// Zeros are written in chunks of this size; an append that reaches a chunk being
// written waits for that one chunk only.
constexpr std::size_t kChunk = 1u << 20;
const char kZeros[kChunk] = {};

bool is_log_file(const std::string& fname) {
  return fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0;
}

bool write_zeros(int fd, std::uint64_t offset, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, kZeros, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    offset += static_cast<std::uint64_t>(n);
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

// A WAL file: its appends are tracked, so that zeros are written only past them,
// and its writes and syncs fail-stop with the file system's first failure.
class WalFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  WalFile(std::unique_ptr<rocksdb::FSWritableFile> file, int fd, WalFileSystem& fs)
      : FSWritableFileOwnerWrapper(std::move(file)), fd_(fd), fs_(fs) {}

  ~WalFile() override {
    stop_filling();
    if (fd_ >= 0) ::close(fd_);
  }

  // After a failure the write is dropped and reported as done: the next sync
  // reports the failure instead (see wal_files.h).
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (fs_.failed()) return rocksdb::IOStatus::OK();
    const bool fill = reserve(data.size());
    return appended(target()->Append(data, options, dbg), fill);
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    if (fs_.failed()) return rocksdb::IOStatus::OK();
    const bool fill = reserve(data.size());
    return appended(target()->Append(data, options, info, dbg), fill);
  }

  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (fs_.failed()) return fs_.failure();
    return synced(target()->Sync(options, dbg));
  }

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (fs_.failed()) return fs_.failure();
    return synced(target()->Fsync(options, dbg));
  }

  // RocksDB writes its WAL only by appending (positioned appends are for direct
  // I/O, which the WAL does not use); anything else would defeat the tracking.
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const rocksdb::IOOptions&,
                                     rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("a prefilled log is only appended to");
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const rocksdb::IOOptions&,
                                     const rocksdb::DataVerificationInfo&,
                                     rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("a prefilled log is only appended to");
  }

  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    stop_filling();
    {
      std::lock_guard lock(mu_);
      size_ = size;
      prefilled_end_ = std::min(prefilled_end_, size);
    }
    return target()->Truncate(size, options, dbg);
  }

  // Gives back the zeros past the last append, then closes. After a failure the
  // file is left as it is, as a crash would leave it.
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    stop_filling();
    if (fs_.failed()) return target()->Close(options, dbg);
    rocksdb::IOStatus cut = rocksdb::IOStatus::OK();
    std::uint64_t size = 0;
    bool zeros_past_end = false;
    {
      std::lock_guard lock(mu_);
      size = size_;
      zeros_past_end = prefilled_end_ > size_;
    }
    if (zeros_past_end) cut = target()->Truncate(size, options, dbg);
    rocksdb::IOStatus closed = target()->Close(options, dbg);
    return cut.ok() ? closed : cut;
  }

  // One fill (the worker's thread): zeros from past the last append up to the
  // target stretch ahead, chunk by chunk, then one sync.
  void fill(const WalFileSystem::Options& options) {
    std::uint64_t target = 0;
    {
      std::lock_guard lock(mu_);
      requested_ = false;
      if (stopped_ || fs_.failed()) return;
      target = size_ + ahead(options);
    }
    std::uint64_t written = 0;
    for (;;) {
      std::uint64_t begin = 0;
      std::size_t len = 0;
      {
        std::lock_guard lock(mu_);
        begin = std::max(prefilled_end_, size_);
        if (stopped_ || fs_.failed() || begin >= target) break;
        len = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, target - begin));
        fill_begin_ = begin;
        filling_ = true;
      }
      const bool ok = write_zeros(fd_, begin, len);
      {
        std::lock_guard lock(mu_);
        filling_ = false;
        if (ok) {
          prefilled_end_ = std::max(prefilled_end_, begin + len);
        } else {
          stopped_ = true;  // disk full or similar: RocksDB's own writes report it
        }
      }
      cv_.notify_all();
      if (!ok) break;
      written += len;
    }
    if (written == 0) return;
    // The zeros' blocks and the file's new size become durable here, once, so
    // that the syncs of the appends that overwrite them need not commit either.
    (void)::fdatasync(fd_);
    fs_.prefilled_bytes_.fetch_add(written, std::memory_order_relaxed);
  }

 private:
  // fill: reserve() found the zeros ahead running short.
  rocksdb::IOStatus appended(const rocksdb::IOStatus& s, bool fill) {
    if (!s.ok()) {
      fs_.fail(s);
      return rocksdb::IOStatus::OK();
    }
    if (fill) fs_.request(this);
    return s;
  }

  rocksdb::IOStatus synced(const rocksdb::IOStatus& s) {
    if (!s.ok()) fs_.fail(s);
    return s;
  }

  // As long as the log, at least one chunk, at most max_ahead.
  std::uint64_t ahead(const WalFileSystem::Options& options) const {
    return std::clamp<std::uint64_t>(size_, kChunk, options.max_ahead);
  }

  // Claims [size_, size_ + n) for an append, after any fill that covers it.
  // Returns whether a fill is due (and marks it requested): the append asks for
  // it once written.
  bool reserve(std::size_t n) {
    std::unique_lock lock(mu_);
    const std::uint64_t end = size_ + n;
    cv_.wait(lock, [&] { return !filling_ || end <= fill_begin_; });
    size_ = end;
    const auto& options = fs_.options_;
    if (fd_ < 0 || options.max_ahead == 0) return false;
    if (stopped_ || requested_ || size_ < options.start_after) return false;
    if (prefilled_end_ >= size_ + ahead(options) / 2) return false;
    requested_ = true;
    return true;
  }

  // No fill of this log runs or starts after this returns.
  void stop_filling() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    fs_.forget(this);
  }

  const int fd_;  // our own descriptor of the file, for the zeros (-1: no zeros)
  WalFileSystem& fs_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t size_ = 0;           // guarded by mu_: bytes appended or being appended
  std::uint64_t prefilled_end_ = 0;  // guarded by mu_: zeros written up to here
  std::uint64_t fill_begin_ = 0;     // guarded by mu_: where the chunk being written starts
  bool filling_ = false;             // guarded by mu_
  bool requested_ = false;           // guarded by mu_: a fill is queued
  bool stopped_ = false;             // guarded by mu_: closing, or a fill failed
};

WalFileSystem::WalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, Options options)
    : FileSystemWrapper(base), options_(options) {}

WalFileSystem::~WalFileSystem() {
  std::thread worker;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    worker = std::move(worker_);
  }
  cv_.notify_all();
  if (worker.joinable()) worker.join();
}

rocksdb::IOStatus WalFileSystem::NewWritableFile(const std::string& fname,
                                                 const rocksdb::FileOptions& file_opts,
                                                 std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                 rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewWritableFile(fname, file_opts, result, dbg);
  if (!s.ok() || !is_log_file(fname) || file_opts.use_direct_writes) return s;
  // Without a descriptor of our own, the log gets no zeros ahead, only the fail-stop.
  const int fd = options_.max_ahead > 0 ? ::open(fname.c_str(), O_WRONLY | O_CLOEXEC) : -1;
  *result = std::make_unique<WalFile>(std::move(*result), fd, *this);
  return s;
}

void WalFileSystem::fail(const rocksdb::IOStatus& s) {
  std::lock_guard lock(failure_mu_);
  if (failed_.load(std::memory_order_relaxed)) return;
  failure_ = s;
  failed_.store(true, std::memory_order_release);
}

rocksdb::IOStatus WalFileSystem::failure() const {
  std::lock_guard lock(failure_mu_);
  return failure_;
}

void WalFileSystem::request(WalFile* log) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    wanted_.push_back(log);
    if (!worker_.joinable()) worker_ = std::thread([this] { worker_main(); });
  }
  cv_.notify_all();
}

void WalFileSystem::forget(WalFile* log) {
  std::unique_lock lock(mu_);
  std::erase(wanted_, log);
  cv_.wait(lock, [&] { return busy_ != log; });
}

void WalFileSystem::worker_main() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !wanted_.empty(); });
    if (stop_) return;
    WalFile* log = wanted_.front();
    wanted_.pop_front();
    busy_ = log;
    lock.unlock();
    log->fill(options_);
    lock.lock();
    busy_ = nullptr;
    cv_.notify_all();
  }
}

}  // namespace portal::eventstore
