#include "envelope.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "portal/eventstore/envelope_generated.h"
#include "portal/eventstore/rocksdb_layout.h"

namespace portal::eventstore::envelope {

namespace {

fb::Id16 to_fb(const Id16& id) {
  return fb::Id16(flatbuffers::span<const std::uint8_t, 16>(id.bytes));
}

Id16 from_fb(const fb::Id16* id) {
  Id16 out;
  if (id != nullptr) std::memcpy(out.bytes.data(), id->b()->Data(), 16);
  return out;
}

std::string_view as_view(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

std::string_view as_view(const flatbuffers::Vector<std::uint8_t>* v) {
  return v == nullptr ? std::string_view()
                      : std::string_view(reinterpret_cast<const char*>(v->data()), v->size());
}

Status corrupt_record(std::uint64_t position, std::string_view why) {
  return Status::corruption("log record at position " + std::to_string(position) +
                            " fails verification: " + std::string(why));
}

}  // namespace

std::string prepare(const NewEvent& event, std::string_view stream, const CommandId& command_id) {
  flatbuffers::FlatBufferBuilder fbb(256 + stream.size() + event.type.size() + event.metadata.size() +
                                     event.payload.size());
  // Placeholders must be materialized so stamp() can patch them in place.
  fbb.ForceDefaults(true);
  auto stream_off = fbb.CreateString(stream.data(), stream.size());
  auto type_off = fbb.CreateString(event.type);
  auto metadata_off =
      fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(event.metadata.data()), event.metadata.size());
  auto payload_off =
      fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(event.payload.data()), event.payload.size());
  EventId event_id = event.event_id.is_nil() ? Id16::random() : event.event_id;
  fb::Id16 ev = to_fb(event_id), cmd = to_fb(command_id), corr = to_fb(event.correlation_id),
           caus = to_fb(event.causation_id);
  fb::EnvelopeBuilder b(fbb);
  b.add_position(0);
  b.add_version(0);
  b.add_recorded_at_us(0);
  b.add_type_code(event.type_code);
  b.add_stream(stream_off);
  b.add_type(type_off);
  b.add_event_id(&ev);
  b.add_command_id(&cmd);
  b.add_correlation_id(&corr);
  b.add_causation_id(&caus);
  b.add_metadata(metadata_off);
  b.add_payload(payload_off);
  fb::FinishEnvelopeBuffer(fbb, b.Finish());
  std::string out;
  out.reserve(fbb.GetSize() + layout::kChecksumBytes);
  out.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  return out;
}

void stamp(std::string& prepared, std::uint64_t position, std::uint64_t version,
           std::int64_t recorded_at_us) {
  auto* env = fb::GetMutableEnvelope(prepared.data());
  env->mutate_position(position);
  env->mutate_version(version);
  env->mutate_recorded_at_us(recorded_at_us);
  layout::seal(prepared);
}

namespace {

// Verifies a stored log value and returns its envelope. FlatBuffers reads scalars
// in place, so the buffer must sit at an address aligned like its largest scalar;
// RocksDB hands values out at any address, so a misaligned one is read from a
// per-thread aligned copy (valid until the next record on this thread, which is
// as long as a RecordView is promised to live).
Status verified_envelope(std::uint64_t position, std::string_view stored, const fb::Envelope*& env) {
  std::string_view body;
  if (!layout::unseal(stored, body)) return corrupt_record(position, "checksum mismatch");
  if (reinterpret_cast<std::uintptr_t>(body.data()) % alignof(std::uint64_t) != 0) {
    thread_local std::vector<std::uint64_t> aligned;
    aligned.resize((body.size() + 7) / 8);
    std::memcpy(aligned.data(), body.data(), body.size());
    body = std::string_view(reinterpret_cast<const char*>(aligned.data()), body.size());
  }
  const auto* data = reinterpret_cast<const std::uint8_t*>(body.data());
  flatbuffers::Verifier verifier(data, body.size());
  if (!fb::VerifyEnvelopeBuffer(verifier)) return corrupt_record(position, "not a valid envelope");
  env = fb::GetEnvelope(data);
  if (env->position() != position) {
    return corrupt_record(position, "envelope says position " + std::to_string(env->position()));
  }
  if (env->stream() == nullptr || env->type() == nullptr)
    return corrupt_record(position, "missing stream or type");
  return Status::ok_status();
}

}  // namespace

Status view(std::uint64_t position, std::string_view stored, RocksDbEventStore::RecordView& out) {
  const fb::Envelope* env = nullptr;
  if (auto s = verified_envelope(position, stored, env); !s.ok()) return s;
  out.position = position;
  out.stream = as_view(env->stream());
  out.version = env->version();
  out.type = as_view(env->type());
  out.type_code = env->type_code();
  out.recorded_at_us = env->recorded_at_us();
  out.metadata = as_view(env->metadata());
  out.payload = as_view(env->payload());
  out.command_id = from_fb(env->command_id());
  out.envelope = stored;
  return Status::ok_status();
}

void EventBlocks::keep(std::string_view stream, std::string_view type, std::string_view metadata,
                       std::string_view payload, RecordedEvent& out) {
  const std::size_t all = stream.size() + type.size() + metadata.size() + payload.size();
  bool same_stream = !last_stream_.empty() && last_stream_ == stream;
  bool same_type = !last_type_.empty() && last_type_ == type;
  const std::size_t fresh = (same_stream ? 0 : stream.size()) + (same_type ? 0 : type.size()) +
                            metadata.size() + payload.size();
  std::shared_ptr<char[]> own;  // a large event's block of its own; the current one stays current
  if (block_ == nullptr || size_ - used_ < fresh) {
    if (all > kLargestBlock / 4) {
      own = std::make_shared_for_overwrite<char[]>(all);
      same_stream = same_type = false;
    } else {
      size_ = std::max(next_size_, all);
      next_size_ = std::min(next_size_ * 2, kLargestBlock);
      block_ = std::make_shared_for_overwrite<char[]>(size_);
      used_ = 0;
      last_stream_ = last_type_ = {};
      same_stream = same_type = false;
    }
  }
  char* p = own != nullptr ? own.get() : block_.get() + used_;
  auto put = [&p](std::string_view bytes) {
    if (bytes.empty()) return std::string_view();
    std::memcpy(p, bytes.data(), bytes.size());
    std::string_view copy(p, bytes.size());
    p += bytes.size();
    return copy;
  };
  out.stream = same_stream ? last_stream_ : put(stream);
  out.type = same_type ? last_type_ : put(type);
  out.metadata = put(metadata);
  out.payload = put(payload);
  if (own != nullptr) {
    out.storage = std::move(own);
    return;
  }
  used_ = static_cast<std::size_t>(p - block_.get());
  last_stream_ = out.stream;
  last_type_ = out.type;
  out.storage = block_;
}

Status decode(std::uint64_t position, std::string_view stored, RecordedEvent& out, EventBlocks& blocks) {
  const fb::Envelope* env = nullptr;
  if (auto s = verified_envelope(position, stored, env); !s.ok()) return s;
  blocks.keep(as_view(env->stream()), as_view(env->type()), as_view(env->metadata()),
              as_view(env->payload()), out);
  out.position = position;
  out.version = env->version();
  out.type_code = env->type_code();
  out.recorded_at_us = env->recorded_at_us();
  out.event_id = from_fb(env->event_id());
  out.command_id = from_fb(env->command_id());
  out.correlation_id = from_fb(env->correlation_id());
  out.causation_id = from_fb(env->causation_id());
  return Status::ok_status();
}

namespace {

// What a re-submitted event must repeat of a committed one, besides its stream and
// its event id (whose rule differs between the log and a twin in the same group).
bool same_content(const NewEvent& resubmitted, std::string_view type, std::uint32_t type_code,
                  const Id16& correlation_id, const Id16& causation_id, std::string_view metadata,
                  std::string_view payload) {
  return resubmitted.type == type && resubmitted.type_code == type_code &&
         resubmitted.correlation_id == correlation_id && resubmitted.causation_id == causation_id &&
         resubmitted.metadata == metadata && resubmitted.payload == payload;
}

}  // namespace

Result<bool> holds_event(std::uint64_t position, std::string_view stored, std::string_view stream,
                         const NewEvent& event) {
  const fb::Envelope* env = nullptr;
  if (auto s = verified_envelope(position, stored, env); !s.ok()) return s;
  return as_view(env->stream()) == stream &&
         (event.event_id.is_nil() || from_fb(env->event_id()) == event.event_id) &&
         same_content(event, as_view(env->type()), env->type_code(), from_fb(env->correlation_id()),
                      from_fb(env->causation_id()), as_view(env->metadata()), as_view(env->payload()));
}

bool same_writes(const AppendRequest& a, const AppendRequest& b) {
  auto same_event = [](const NewEvent& x, const NewEvent& y) {
    return x.event_id == y.event_id &&
           same_content(y, x.type, x.type_code, x.correlation_id, x.causation_id, x.metadata, x.payload);
  };
  return std::equal(a.writes.begin(), a.writes.end(), b.writes.begin(), b.writes.end(),
                    [&](const StreamWrite& x, const StreamWrite& y) {
                      return x.stream == y.stream && std::equal(x.events.begin(), x.events.end(),
                                                                y.events.begin(), y.events.end(), same_event);
                    });
}

CommandDigest request_digest(const AppendRequest& request) {
  // One context per thread and one fetch of the algorithm: both are costly next
  // to hashing a few hundred bytes. The request's fields are gathered into one
  // buffer and hashed with one update: an update call per field cost more than
  // the hashing.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> holder(EVP_MD_CTX_new(),
                                                                              &EVP_MD_CTX_free);
  thread_local std::string buffer;
  buffer.clear();
  // Every variable-length field is length-prefixed so that no two different
  // requests encode to the same bytes.
  auto put_u64 = [&](std::uint64_t v) {
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
    buffer.append(buf, 8);
  };
  auto put_bytes = [&](std::string_view s) {
    put_u64(s.size());
    buffer.append(s);
  };
  auto put_id = [&](const Id16& id) { buffer.append(reinterpret_cast<const char*>(id.bytes.data()), 16); };
  auto put_expected = [&](const ExpectedVersion& e) {
    put_u64(static_cast<std::uint64_t>(e.kind));
    put_u64(e.version);
  };
  put_u64(request.writes.size());
  for (const auto& w : request.writes) {
    put_bytes(w.stream);
    put_expected(w.expected);
    put_u64(w.events.size());
    for (const auto& e : w.events) {
      put_bytes(e.type);
      put_u64(e.type_code);
      put_id(e.event_id);
      put_id(e.correlation_id);
      put_id(e.causation_id);
      put_bytes(e.metadata);
      put_bytes(e.payload);
    }
  }
  put_u64(request.checks.size());
  for (const auto& c : request.checks) {
    put_bytes(c.stream);
    put_expected(c.expected);
  }
  EVP_MD_CTX* ctx = holder.get();
  EVP_DigestInit_ex(ctx, kSha256, nullptr);
  EVP_DigestUpdate(ctx, buffer.data(), buffer.size());
  CommandDigest digest{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest.data(), &len);
  if (buffer.capacity() > (std::size_t{1} << 20)) std::string().swap(buffer);  // after a big request
  return digest;
}

std::string encode_command(const AppendResult& result) {
  std::string out;
  out.reserve(24 + layout::kChecksumBytes);  // three numbers, checksum: one allocation
  layout::put_u64_be(out, result.first_position);
  layout::put_u64_be(out, result.last_position);
  layout::put_u64_be(out, static_cast<std::uint64_t>(result.recorded_at_us));
  layout::seal(out);
  return out;
}

Status decode_command(const CommandId& id, std::string_view stored, AppendResult& result,
                      std::optional<CommandDigest>& legacy_digest) {
  std::string_view body;
  if (!layout::unseal(stored, body) || (body.size() != 24 && body.size() != sizeof(CommandDigest) + 24)) {
    return Status::corruption("command record " + id.to_hex() + " fails verification");
  }
  legacy_digest.reset();
  if (body.size() > 24) {
    legacy_digest.emplace();
    std::memcpy(legacy_digest->data(), body.data(), legacy_digest->size());
    body.remove_prefix(legacy_digest->size());
  }
  result = AppendResult{};
  result.first_position = layout::get_u64_be(body);
  result.last_position = layout::get_u64_be(body.substr(8));
  result.recorded_at_us = static_cast<std::int64_t>(layout::get_u64_be(body.substr(16)));
  if (result.first_position == 0 || result.last_position < result.first_position) {
    return Status::corruption("command record " + id.to_hex() + " holds an impossible position range");
  }
  return Status::ok_status();
}

}  // namespace portal::eventstore::envelope
