// On-disk format of the RocksDB event store.
//
// Column families (all keys fixed-width big-endian where numeric, so that byte
// order is numeric order and scans use prefix bounds):
//
//   log       key: position (8 bytes BE, 1, 2, 3, ...)
//             value: envelope FlatBuffer (file identifier "PEV1", schema
//             eventstore/envelope.fbs) followed by 4 bytes: CRC-32C of the
//             envelope bytes, little-endian.
//   streams   key: stream name, 0x00, version (8 bytes BE)
//             value: position (8 bytes BE). A stream's head is its last key.
//   commands  key: command id (16 bytes)
//             value: first position, last position, recorded-at (8 bytes BE
//             each), CRC-32C. The per-stream result is read back from the log on
//             re-submission, and so are the events the re-submission must match.
//             Records written by earlier versions start with the SHA-256 of
//             their request (32 bytes more), which a re-submission must match.
//   snapshots key: stream name
//             value: version (8 bytes BE) of the last event folded in, the
//             snapshot bytes (opaque to the store), CRC-32C. A cache beside the
//             log, never part of it: written with a plain unsynced Write outside
//             group commit, one per stream (a newer one replaces it), and never
//             read back past the stream's visible head.
//   default   unused by the store; RocksDB requires it.
//
// One append is one WriteBatch touching all three families, so a crash leaves
// either all of an append or none of it. The last position and the last
// recorded-at are recovered on open from the last key of `log`; stream heads are
// cached in memory by the writer and read from `streams` on a miss.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portal::eventstore::layout {

inline constexpr const char* kLogFamily = "log";
inline constexpr const char* kStreamsFamily = "streams";
inline constexpr const char* kCommandsFamily = "commands";
inline constexpr const char* kSnapshotsFamily = "snapshots";

inline constexpr std::size_t kChecksumBytes = 4;
// `commands` hashes its keys' first bytes into memtable buckets: it is never
// scanned in key order.
inline constexpr std::size_t kLookupPrefixBytes = 32;

void put_u64_be(std::string& out, std::uint64_t v);
std::uint64_t get_u64_be(std::string_view in);  // in.size() >= 8

std::string log_key(std::uint64_t position);
std::string stream_key(std::string_view stream, std::uint64_t version);
std::string stream_prefix(std::string_view stream);  // stream name, 0x00

// CRC-32C (Castagnoli) of data.
std::uint32_t crc32c(std::string_view data);
// Appends the checksum trailer to a value.
void seal(std::string& value);
// Checks a sealed value's trailer; on success sets body to the value without it.
bool unseal(std::string_view value, std::string_view& body);

}  // namespace portal::eventstore::layout
