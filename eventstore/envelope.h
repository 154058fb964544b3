// Encoding and verification of the store's records: envelopes (envelope.fbs) and command records.
// Internal to the eventstore module.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "portal/eventstore/rocksdb_event_store.h"
#include "portal/eventstore/types.h"

namespace portal::eventstore::envelope {

// SHA-256 of a request, as command records written by earlier versions keep it.
using CommandDigest = std::array<std::uint8_t, 32>;

// An envelope built before the commit decides its position, version and
// recorded-at: those three fields are present with placeholder values and are
// patched in place by stamp(), so the encoding work happens on the caller's
// thread and the group-commit leader only patches and checksums.
std::string prepare(const NewEvent& event, std::string_view stream, const CommandId& command_id);

// Patches the placeholders and appends the checksum trailer; the result is the
// value stored under the position's log key.
void stamp(std::string& prepared, std::uint64_t position, std::uint64_t version, std::int64_t recorded_at_us);

// Verifies a stored log value (checksum, FlatBuffers verifier, file identifier,
// position field equal to the key's) and exposes its fields without copying.
// Returns Corruption naming the position on any mismatch.
Status view(std::uint64_t position, std::string_view stored, RocksDbEventStore::RecordView& out);

// The blocks that own the bytes of the events one read decodes (see
// RecordedEvent). Blocks start at 4 KiB and double up to 64 KiB, so a read of one
// event allocates little and a page of thousands allocates a few blocks; an
// event larger than a quarter of the largest block that does not fit in the
// current one gets a block of its own (the current one stays current). A
// stream or type equal to the previous event's in the same block is shared, not
// copied again (a stream read repeats its name a thousand times).
class EventBlocks {
 public:
  // Copies the four fields into the current block (a new one when they do not
  // fit), points `out`'s views at the copies and makes `out` share the block.
  void keep(std::string_view stream, std::string_view type, std::string_view metadata,
            std::string_view payload, RecordedEvent& out);

 private:
  static constexpr std::size_t kFirstBlock = 4u << 10;
  static constexpr std::size_t kLargestBlock = 64u << 10;

  std::shared_ptr<char[]> block_;
  std::size_t size_ = 0;
  std::size_t used_ = 0;
  std::size_t next_size_ = kFirstBlock;
  std::string_view last_stream_;  // in block_, or empty
  std::string_view last_type_;    // in block_, or empty
};

// view() and a copy of the fields into `blocks`, owned by `out`.
Status decode(std::uint64_t position, std::string_view stored, RecordedEvent& out, EventBlocks& blocks);

// Whether the stored log value at `position` holds `event` as written to
// `stream` by a command: the same stream, type and code, correlation and
// causation ids, metadata and payload, and the same event id unless the event
// leaves it nil (the store then chose one). Corruption when the record fails
// verification.
Result<bool> holds_event(std::uint64_t position, std::string_view stored, std::string_view stream,
                         const NewEvent& event);

// Whether two requests write the same events: the same streams in the same
// order, each with the same events (ids as given). Expected versions and checks
// are the conditions a command was decided under, not what it did: they are not
// compared. This is what makes a re-submitted command id the same command.
bool same_writes(const AppendRequest& a, const AppendRequest& b);

// SHA-256 over a canonical encoding of everything a request says (streams,
// expected versions, events with their ids as given, checks). Command records
// written by earlier versions keep it instead of being compared with the log:
// a re-submission of one of those is the same command when its digest is equal.
CommandDigest request_digest(const AppendRequest& request);

// The sealed command record of a committed append: first and last position and
// recorded-at (8 bytes big-endian each), then the CRC-32C trailer. Per-stream
// results are not stored: they are read back from the log, and so is the content
// a re-submission is compared with.
std::string encode_command(const AppendResult& result);
// Decodes a command record (positions and recorded-at only); Corruption names the
// command id on failure. A record written by an earlier version starts with its
// request's digest (32 bytes more): it is returned in `legacy_digest`.
Status decode_command(const CommandId& id, std::string_view stored, AppendResult& result,
                      std::optional<CommandDigest>& legacy_digest);

}  // namespace portal::eventstore::envelope
