// engine/idempotency/record.h: the stored answer of an idempotent write, as it sits in LMDB.
//
// A `record` is written by the writer thread in the same transaction as the write it answers
// (idempotent_command.h), so after a crash either both exist or neither does. Tables
// (docs/storage-format.md):
//   idempotency         `<workspace id> 0x00 <scope digest, 32 bytes>` -> record
//                       (storage type `idempotent_response`, payload fields below)
//   idempotency_expiry  `<be64 expires_at ms> <idempotency key>` -> empty `idempotency_expiry`
//                       record: expiry order, for the sweeper (sweeper.h)
// Every key starts with its workspace id (the expiry key right after the time), so one
// workspace's records can never answer another's requests.
//
// Only the headers a replay must repeat are stored: Content-Type and those the route names
// (Location). Pure data and codecs, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/idempotency/fingerprint.h"
#include "net/http_response.h"

namespace warrant::engine::idempotency {

struct stored_response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // replayed as they are
  std::string body;
};

// Puts `r` on `res`: status, content type, headers, body. Headers already on `res` (the
// guard's rate-limit headers) stay.
void write_response(const stored_response& r, net::http_response& res);

struct record {
  std::string workspace_id;
  std::string method;
  std::string route_pattern;
  key_kind kind = key_kind::client;
  std::string key;  // the client's key, or the derived one (for operators reading the table)
  digest fingerprint{};
  stored_response response;
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;

  bool expired_at(std::int64_t now_ms) const { return now_ms >= expires_at_ms; }
};

std::string encode_record(const record& r);
std::optional<record> decode_record(std::string_view payload);

std::string record_key(std::string_view workspace_id, const digest& scope);
std::string expiry_key(std::int64_t expires_at_ms, std::string_view record_key);
// Splits an expiry key; false when it is shorter than its time.
bool split_expiry_key(std::string_view key, std::int64_t& expires_at_ms, std::string_view& record_key);

}  // namespace warrant::engine::idempotency
