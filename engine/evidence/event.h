// engine/evidence/event.h: a participation event (spec/evidence.md "POST /v1/events") — the
// request's strict validation, the stored record, its storage key and its JSON form.
//
// Storage (docs/storage-format.md "Evidence events"): table `events`, key
// `<workspace id> 0x00 <the event id's 16 UUID bytes, each bit inverted>`. Event ids are
// UUIDv7 made on receipt (engine/common/ids.h: increasing within a process, time-ordered
// across restarts), so a forward scan from `<workspace id> 0x00` lists one workspace's events
// newest received first: GET /v1/events is a range scan of its own workspace, never a full
// table scan. The record holds the entity id (SHA-256), never the plaintext userExternalId.
//
// Pure data and functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/common/json.h"
#include "engine/evidence/catalogue.h"
#include "engine/evidence/entity_id.h"
#include "engine/evidence/tier.h"
#include "net/byte_buffer.h"

namespace warrant::engine::evidence {

// Named limits of an event (spec/evidence.md; spec/common.md "Limits").
inline constexpr std::int64_t occurred_at_future_ms_max = 5 * 60 * 1000;      // OCCURRED_AT_IN_FUTURE beyond
inline constexpr std::int64_t occurred_at_live_age_ms_max = 30 * ms_per_day;  // BACKFILL_REQUIRED beyond
inline constexpr std::size_t user_external_id_bytes_max = identifier_bytes_max;

// Values are stored (docs/storage-format.md): never renumber.
enum class significance : std::uint8_t { low = 0, normal = 1, high = 2 };
enum class event_actor : std::uint8_t { human = 0, agent = 1, unknown = 2 };
enum class batch_type : std::uint8_t { live = 0, backfill = 1 };

std::string_view significance_name(significance s);  // "low" | "normal" | "high"
std::string_view event_actor_name(event_actor a);      // "HUMAN" | "AGENT" | "UNKNOWN"
std::string_view batch_type_name(batch_type b);      // "LIVE" | "BACKFILL"

// A validated POST /v1/events body.
struct event_request {
  std::string user_external_id;
  event_type_id type{};
  std::optional<std::int64_t> occurred_at_ms;  // absent: the receipt time
  significance level = significance::normal;
  event_actor actor = event_actor::unknown;
  batch_type batch = batch_type::live;
};

// Strict validation against the receipt time `now_ms`: unknown members 400 UNKNOWN_FIELD,
// members of the wrong type 400 VALIDATION_ERROR, a member given twice 400 INVALID_JSON (as
// on every idempotent route), missing userExternalId /
// eventType 400 VALIDATION_ERROR, an unknown eventType 400 INVALID_EVENT_TYPE, occurredAt not
// RFC 3339 400 VALIDATION_ERROR, more than 5 minutes ahead 400 OCCURRED_AT_IN_FUTURE, more
// than 30 days old without batchType BACKFILL 400 BACKFILL_REQUIRED. Malformed JSON: 400
// INVALID_JSON with the byte offset. False with `err` filled on any of these.
bool parse_event_request(std::string_view body, std::int64_t now_ms, event_request& out, json_error& err);

// The stored event.
struct event_record {
  std::string id;            // UUIDv7
  std::string workspace_id;  // the partner that submitted it (partnerId)
  entity_id entity{};
  event_type_id type{};
  std::int64_t occurred_at_ms = 0;
  std::int64_t received_at_ms = 0;
  significance level = significance::normal;
  event_actor actor = event_actor::unknown;
  batch_type batch = batch_type::live;
};

std::string encode_event(const event_record& e);
// nullopt on a malformed payload, a missing field or an event type outside the catalogue.
std::optional<event_record> decode_event(std::string_view payload);
// The same into `out`, reusing its strings' storage (start-up rebuild: no allocation per
// record once the strings have grown). False where the above gives nullopt.
bool decode_event(std::string_view payload, event_record& out);

// The 16 bytes of a UUID's text form, every bit inverted (so that newer ids sort first), or
// nullopt when `uuid` is not a UUID.
std::optional<std::array<std::uint8_t, 16>> inverted_uuid(std::string_view uuid);
// `<prefix> 0x00 <inverted uuid>`: the key of events (prefix: workspace id) and claims
// (prefix: identity namespace). nullopt when `uuid` is not a UUID.
std::optional<std::string> inverted_id_key(std::string_view prefix, std::string_view uuid);
// `<prefix> 0x00`: where a newest-first scan of one prefix starts.
std::string key_prefix(std::string_view prefix);

// {"id","entityId","eventType","occurredAt","receivedAt","significance","actorType","batchType","partnerId"}
void render_event(net::byte_buffer& out, const event_record& e);

}  // namespace warrant::engine::evidence
