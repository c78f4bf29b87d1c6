// storage/record.h: the envelope every stored record travels in, and a small field codec.
//
// Envelope (little-endian, 16 bytes, then the payload), documented in docs/storage-format.md:
//   u8  format version (record_format_version)
//   u8  record type (record_type)
//   u16 reserved, 0
//   u32 payload bytes
//   u64 XXH3-64 of the payload, seeded with bytes [0, 8) read as a little-endian u64
// A record is checked before it is written and after it is read; a mismatch is `corrupt`.
//
// Payload: a sequence of fields, each `u8 tag, varint length, bytes`. Unknown tags are
// skipped by readers, so a newer writer's extra fields do not break an older reader; integers
// are stored as varints inside their field. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warrant::storage {

inline constexpr std::uint8_t record_format_version = 1;
inline constexpr std::size_t record_header_bytes = 16;
inline constexpr std::size_t record_payload_bytes_max = 16 * 1024 * 1024;

// Every record type ever written; values are on disk and never reused.
enum class record_type : std::uint8_t {
  workspace = 1,          // materialised workspace
  api_key = 2,            // materialised API key
  log_workspace_created = 16,
  log_key_created = 17,
  log_key_revoked = 18,
  log_limits_set = 19,        // log records of any family: 16..31 (warrantctl verify checks the range)
  idempotent_response = 32,   // table idempotency (engine/idempotency/record.h)
  idempotency_expiry = 33,    // table idempotency_expiry, empty payload: the key says it all
  test_write = 40,            // table test_writes (engine/idempotency/test_routes.h)
  event = 48,                 // table events (engine/evidence/event.h)
  claim = 49,                 // table claims (engine/evidence/claim.h)
  policy_decision = 50,       // table decisions, one decision (written before groups; still read)
  policy_decision_group = 51, // table decisions, one request's decisions (engine/evidence/decision_record.h)
  agent = 56,                 // table agents (engine/agents/model.h)
  spawn_policy = 57,          // table spawn_policies (engine/agents/model.h)
  audit_entry = 58,           // table audit (engine/audit/audit.h)
  log_key_erased = 59,        // an agent's key deleted (rotation, revocation): engine/tenancy/model.h
  log_agent_written = 60,     // an agent record as written (engine/agents/model.h)
  log_spawn_policy_set = 61,  // a workspace's spawn policy as written (engine/agents/model.h)
};

enum class decode_errc : std::uint8_t { ok, truncated, bad_version, bad_length, bad_checksum };

struct decoded_record {
  record_type type{};
  std::string_view payload;
};

// Appends the envelope and payload to `out`.
void encode_record(std::string& out, record_type type, std::string_view payload);
std::string encode_record(record_type type, std::string_view payload);
decode_errc decode_record(std::string_view bytes, decoded_record& out);
std::string_view decode_errc_name(decode_errc e);

// Builds a payload field by field.
class field_writer {
 public:
  field_writer& bytes(std::uint8_t tag, std::string_view v);
  field_writer& u64(std::uint8_t tag, std::uint64_t v);
  field_writer& i64(std::uint8_t tag, std::int64_t v) { return u64(tag, static_cast<std::uint64_t>(v)); }
  field_writer& boolean(std::uint8_t tag, bool v) { return u64(tag, v ? 1 : 0); }
  const std::string& str() const { return _out; }
  std::string take() { return std::move(_out); }

 private:
  std::string _out;
};

// Reads a payload: `next` yields each field in order; false at the end or on a malformed field
// (then `malformed()` is true).
class field_reader {
 public:
  explicit field_reader(std::string_view payload) : _rest(payload) {}
  bool next(std::uint8_t& tag, std::string_view& value);
  bool malformed() const { return _malformed; }
  static std::optional<std::uint64_t> as_u64(std::string_view value);

 private:
  std::string_view _rest;
  bool _malformed = false;
};

void append_varint(std::string& out, std::uint64_t v);
// Reads a varint from the front of `in`, advancing it. False when truncated or over 10 bytes.
bool read_varint(std::string_view& in, std::uint64_t& v);

// Big-endian u64: log sequence keys sort in numeric order under LMDB's default comparison.
std::string be64_key(std::uint64_t v);
std::uint64_t be64_value(std::string_view key);

}  // namespace warrant::storage
