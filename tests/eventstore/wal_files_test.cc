// WalFileSystem (eventstore/wal_files.h): zeros are written ahead of a
// WAL file while it is appended to, never over what was appended, and a file
// closed normally keeps exactly the appended bytes.
#include "wal_files.h"

#include <gtest/gtest.h>
#include <rocksdb/file_system.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "conformance_test.h"
#include "faulty_file_system.h"

namespace portal::eventstore {
namespace {

namespace fs = std::filesystem;

// Waits for a condition that a background thread brings about; fails the test
// (instead of hanging it) if that never happens.
template <class Condition>
bool eventually(const Condition& condition) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string file_contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class WalFilesTest : public ::testing::Test {
 protected:
  WalFilesTest() {
    WalFileSystem::Options options;
    options.max_ahead = 4u << 20;
    options.start_after = 64u << 10;
    fs_ = std::make_shared<WalFileSystem>(rocksdb::FileSystem::Default(), options);
  }

  std::unique_ptr<rocksdb::FSWritableFile> create(const std::string& path) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = fs_->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return file;
  }

  // Appends pieces of 1 to 20,000 pseudo-random bytes up to `bytes` in all,
  // syncing now and then as RocksDB does; returns what was appended.
  static std::string append_pieces(rocksdb::FSWritableFile& file, std::size_t bytes, std::mt19937_64& rng) {
    std::string appended;
    while (appended.size() < bytes) {
      std::string piece(1 + rng() % 20000, '\0');
      for (char& c : piece) c = static_cast<char>(1 + rng() % 255);  // never a zero byte
      EXPECT_TRUE(file.Append(piece, rocksdb::IOOptions(), nullptr).ok());
      if (rng() % 8 == 0) {
        EXPECT_TRUE(file.Sync(rocksdb::IOOptions(), nullptr).ok());
      }
      appended += piece;
    }
    return appended;
  }

  test::ScopedTempDir dir_;
  std::shared_ptr<WalFileSystem> fs_;
};

TEST_F(WalFilesTest, ZerosRunAheadOfAppendsAndCloseLeavesExactlyTheAppendedBytes) {
  const std::string path = dir_.child("000007.log");
  auto file = create(path);
  ASSERT_NE(file, nullptr);
  std::mt19937_64 rng(7);

  // Past start_after the file is filled ahead of its end.
  std::string appended = append_pieces(*file, 1u << 20, rng);
  ASSERT_TRUE(eventually([&] { return fs::file_size(path) > appended.size(); }))
      << "no zeros were written ahead of a 1 MiB log";
  EXPECT_GT(fs_->prefilled_bytes(), 0u);

  // Appends racing with the fills that keep running ahead of them.
  appended += append_pieces(*file, 12u << 20, rng);
  ASSERT_TRUE(eventually([&] { return fs::file_size(path) > appended.size(); }));
  const std::string on_disk = file_contents(path);
  ASSERT_GT(on_disk.size(), appended.size());
  EXPECT_TRUE(on_disk.compare(0, appended.size(), appended) == 0) << "an appended byte was overwritten";
  EXPECT_EQ(on_disk.find_first_not_of('\0', appended.size()), std::string::npos)
      << "past the appended bytes there are only zeros";
  EXPECT_LE(on_disk.size(), appended.size() + (4u << 20)) << "at most max_ahead of zeros";

  ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  EXPECT_EQ(fs::file_size(path), appended.size());
  EXPECT_TRUE(file_contents(path) == appended);
}

TEST_F(WalFilesTest, OnlyWriteAheadLogsPastStartAfterAreFilled) {
  std::mt19937_64 rng(11);
  const std::string table = dir_.child("000008.sst");
  auto sst = create(table);
  const std::string small_log = dir_.child("000009.log");
  auto log = create(small_log);
  ASSERT_NE(sst, nullptr);
  ASSERT_NE(log, nullptr);
  const std::string table_bytes = append_pieces(*sst, 2u << 20, rng);
  std::string log_bytes;
  while (log_bytes.size() < (60u << 10)) {
    std::string piece(1000, 'x');
    ASSERT_TRUE(log->Append(piece, rocksdb::IOOptions(), nullptr).ok());
    log_bytes += piece;
  }
  // A log that grows past start_after is filled; by then neither file above was.
  const std::string big_log = dir_.child("000010.log");
  auto big = create(big_log);
  ASSERT_NE(big, nullptr);
  const std::string big_bytes = append_pieces(*big, 1u << 20, rng);
  ASSERT_TRUE(eventually([&] { return fs::file_size(big_log) > big_bytes.size(); }));
  EXPECT_EQ(fs::file_size(table), table_bytes.size());
  EXPECT_EQ(fs::file_size(small_log), log_bytes.size());
  for (auto* f : {sst.get(), log.get(), big.get()}) {
    ASSERT_TRUE(f->Close(rocksdb::IOOptions(), nullptr).ok());
  }
  EXPECT_EQ(fs::file_size(big_log), big_bytes.size());
}

TEST_F(WalFilesTest, AFileDestroyedWithoutCloseStopsItsFills) {
  // RocksDB may drop a file object without closing it on an error path; the
  // file system must neither fill it afterwards nor wait on it when destroyed.
  std::mt19937_64 rng(13);
  const std::string path = dir_.child("000011.log");
  auto file = create(path);
  ASSERT_NE(file, nullptr);
  const std::string appended = append_pieces(*file, 3u << 20, rng);
  ASSERT_TRUE(eventually([&] { return fs_->prefilled_bytes() > 0; }));
  file.reset();
  EXPECT_TRUE(file_contents(path).compare(0, appended.size(), appended) == 0);
  fs_.reset();  // joins the worker: hangs (and times out) if a fill of the file is still waited on
}

// The fail-stop (wal_files.h, 2.): once a write or a sync of one WAL file failed,
// every sync of every WAL file reports that failure and later WAL writes are
// dropped, even once the disk works again; other files are left to RocksDB.
TEST_F(WalFilesTest, AFailedWriteOrSyncFailsEveryLaterSyncOfEveryLogAndDropsLaterWrites) {
  for (const bool sync_fails : {false, true}) {
    SCOPED_TRACE(sync_fails ? "a failed sync" : "a failed write");
    auto disk = std::make_shared<test::FaultyFileSystem>();
    WalFileSystem wal(disk, WalFileSystem::Options{});
    const std::string tag = sync_fails ? "s" : "w";
    auto open = [&](const std::string& name) {
      std::unique_ptr<rocksdb::FSWritableFile> file;
      EXPECT_TRUE(wal.NewWritableFile(dir_.child(tag + name), rocksdb::FileOptions(), &file, nullptr).ok());
      return file;
    };
    auto first = open("000001.log"), second = open("000002.log"), table = open("000003.sst");
    const rocksdb::IOOptions io;
    ASSERT_TRUE(first->Append("acknowledged", io, nullptr).ok());
    ASSERT_TRUE(first->Sync(io, nullptr).ok());

    if (sync_fails) {
      disk->fail_syncs();
      ASSERT_TRUE(first->Append("unsynced", io, nullptr).ok());
      EXPECT_TRUE(first->Sync(io, nullptr).IsIOError());
    } else {
      disk->fill();
      EXPECT_TRUE(first->Append("lost", io, nullptr).ok())
          << "a failed write of a log is reported by its sync";
      EXPECT_TRUE(first->Sync(io, nullptr).IsNoSpace());
      EXPECT_TRUE(table->Append("table", io, nullptr).IsNoSpace()) << "other files report their own failures";
    }
    EXPECT_FALSE(wal.failure().ok());
    EXPECT_FALSE(second->Sync(io, nullptr).ok()) << "a log that never failed itself fails-stop too";

    disk->heal();
    EXPECT_TRUE(first->Append("dropped", io, nullptr).ok());
    EXPECT_FALSE(first->Sync(io, nullptr).ok());
    EXPECT_TRUE(second->Append("dropped", io, nullptr).ok());
    EXPECT_TRUE(table->Append("table", io, nullptr).ok());
    for (auto* f : {first.get(), second.get(), table.get()}) (void)f->Close(io, nullptr);
    EXPECT_EQ(file_contents(dir_.child(tag + "000001.log")),
              sync_fails ? "acknowledgedunsynced" : "acknowledged");
    EXPECT_EQ(file_contents(dir_.child(tag + "000002.log")), "");
  }
}

}  // namespace
}  // namespace portal::eventstore
