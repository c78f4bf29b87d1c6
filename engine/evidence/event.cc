#include "engine/evidence/event.h"

#include <fmt/format.h>

#include "engine/common/ids.h"
#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

using storage::field_reader;
using storage::field_writer;

// Field tags of an event record (on disk, never reused).
enum : std::uint8_t {
  tag_id = 1,
  tag_workspace_id = 2,
  tag_entity_id = 3,
  tag_event_type = 4,
  tag_occurred_at = 5,
  tag_received_at = 6,
  tag_significance = 7,
  tag_actor_type = 8,
  tag_batch_type = 9,
};

constexpr std::string_view fields_hint =
    "accepted fields: userExternalId, eventType, occurredAt, significance, actorType, batchType";

bool validation_error(json_error& err, std::string message, std::string_view hint = {}) {
  err = {400, "VALIDATION_ERROR", std::move(message), std::string(hint)};
  return false;
}

// A member that must be one of `names`; its index in `names` goes to `out`.
template <std::size_t N>
bool get_enum(simdjson::ondemand::value& v, std::string_view field, const std::array<std::string_view, N>& names,
              std::uint8_t& out, json_error& err) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    for (std::size_t i = 0; i < N; ++i) {
      if (names[i] == s) {
        out = static_cast<std::uint8_t>(i);
        return true;
      }
    }
  }
  std::string allowed;
  for (std::size_t i = 0; i < N; ++i) allowed += fmt::format("{}\"{}\"", i ? ", " : "", names[i]);
  return validation_error(err, fmt::format("field '{}' must be one of {}", field, allowed));
}

constexpr std::array<std::string_view, 3> significance_names = {"low", "normal", "high"};
constexpr std::array<std::string_view, 3> event_actor_names = {"HUMAN", "AGENT", "UNKNOWN"};
constexpr std::array<std::string_view, 2> batch_type_names = {"LIVE", "BACKFILL"};

// Which members were seen, for "given twice".
enum member_bit : unsigned {
  seen_user = 1u << 0,
  seen_type = 1u << 1,
  seen_occurred = 1u << 2,
  seen_significance = 1u << 3,
  seen_actor = 1u << 4,
  seen_batch = 1u << 5,
};

bool check_times(const event_request& r, std::int64_t now_ms, json_error& err) {
  if (!r.occurred_at_ms) return true;
  if (*r.occurred_at_ms > now_ms + occurred_at_future_ms_max) {
    err = {400, "OCCURRED_AT_IN_FUTURE", "occurredAt is more than 5 minutes in the future",
           "send the time the event happened, in UTC"};
    return false;
  }
  if (*r.occurred_at_ms < now_ms - occurred_at_live_age_ms_max && r.batch != batch_type::backfill) {
    err = {400, "BACKFILL_REQUIRED", "occurredAt is more than 30 days old",
           "send historical events with \"batchType\": \"BACKFILL\""};
    return false;
  }
  return true;
}

}  // namespace

std::string_view significance_name(significance s) { return significance_names[static_cast<std::size_t>(s)]; }
std::string_view event_actor_name(event_actor a) { return event_actor_names[static_cast<std::size_t>(a)]; }
std::string_view batch_type_name(batch_type b) { return batch_type_names[static_cast<std::size_t>(b)]; }

bool parse_event_request(std::string_view body, std::int64_t now_ms, event_request& out, json_error& err) {
  unsigned seen = 0;
  auto first_time = [&](unsigned bit, std::string_view key) {
    if ((seen & bit) == 0) {
      seen |= bit;
      return true;
    }
    // As the canonical JSON of every idempotent route (docs/api-common.md "Fingerprint").
    err = {400, "INVALID_JSON", fmt::format("field '{}' is given twice", key), "send each member once"};
    return false;
  };
  const bool ok = for_each_member(body, err, [&](std::string_view key, simdjson::ondemand::value& v) {
    if (key == "userExternalId") {
      if (!first_time(seen_user, key)) return false;
      if (!get_string(v, key, user_external_id_bytes_max, out.user_external_id, err)) return false;
      if (out.user_external_id.empty()) return validation_error(err, "field 'userExternalId' must not be empty");
      return true;
    }
    if (key == "eventType") {
      if (!first_time(seen_type, key)) return false;
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return validation_error(err, "field 'eventType' must be a string");
      const auto id = find_event_type(s);
      if (!id) {
        err = {400, "INVALID_EVENT_TYPE",
               fmt::format("'{}' is not an event type", utf8_clip(s, event_type_name_bytes_max + 1)),
               "GET /v1/events/types lists the catalogue"};
        return false;
      }
      out.type = *id;
      return true;
    }
    if (key == "occurredAt") {
      if (!first_time(seen_occurred, key)) return false;
      std::string_view s;
      std::optional<std::int64_t> t;
      if (v.get_string().get(s) == simdjson::SUCCESS) t = parse_time_ms(s);
      if (!t) return validation_error(err, "field 'occurredAt' must be an RFC 3339 time", "e.g. 2026-05-20T10:00:00.000Z");
      out.occurred_at_ms = *t;
      return true;
    }
    std::uint8_t index = 0;
    if (key == "significance") {
      if (!first_time(seen_significance, key) || !get_enum(v, key, significance_names, index, err)) return false;
      out.level = static_cast<significance>(index);
      return true;
    }
    if (key == "actorType") {
      if (!first_time(seen_actor, key) || !get_enum(v, key, event_actor_names, index, err)) return false;
      out.actor = static_cast<event_actor>(index);
      return true;
    }
    if (key == "batchType") {
      if (!first_time(seen_batch, key) || !get_enum(v, key, batch_type_names, index, err)) return false;
      out.batch = static_cast<batch_type>(index);
      return true;
    }
    err = {400, "UNKNOWN_FIELD",
           fmt::format("unknown field '{}': events carry no free-form data", utf8_clip(key, identifier_bytes_max)),
           std::string(fields_hint)};
    return false;
  });
  if (!ok) return false;
  if ((seen & seen_user) == 0) return missing_field("userExternalId", err);
  if ((seen & seen_type) == 0) return missing_field("eventType", err);
  return check_times(out, now_ms, err);
}

std::string encode_event(const event_record& e) {
  field_writer f;
  f.bytes(tag_id, e.id).bytes(tag_workspace_id, e.workspace_id).bytes(tag_entity_id, entity_id_bytes_view(e.entity));
  f.bytes(tag_event_type, event_type(e.type).name);
  f.i64(tag_occurred_at, e.occurred_at_ms).i64(tag_received_at, e.received_at_ms);
  f.u64(tag_significance, static_cast<std::uint64_t>(e.level));
  f.u64(tag_actor_type, static_cast<std::uint64_t>(e.actor));
  f.u64(tag_batch_type, static_cast<std::uint64_t>(e.batch));
  return f.take();
}

bool decode_event(std::string_view payload, event_record& e) {
  e.id.clear();
  e.workspace_id.clear();
  e.occurred_at_ms = e.received_at_ms = 0;
  e.level = significance::normal;
  e.actor = event_actor::unknown;
  e.batch = batch_type::live;
  bool have_entity = false;
  bool have_type = false;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  auto small = [&v](std::uint64_t max) -> std::optional<std::uint8_t> {
    const auto n = field_reader::as_u64(v);
    if (!n || *n > max) return std::nullopt;
    return static_cast<std::uint8_t>(*n);
  };
  while (r.next(tag, v)) {
    switch (tag) {
      case tag_id: e.id.assign(v); break;
      case tag_workspace_id: e.workspace_id.assign(v); break;
      case tag_entity_id: {
        const auto id = entity_id_from_bytes(v);
        if (!id) return false;
        e.entity = *id;
        have_entity = true;
        break;
      }
      case tag_event_type: {
        const auto t = find_event_type(v);
        if (!t) return false;
        e.type = *t;
        have_type = true;
        break;
      }
      case tag_occurred_at:
      case tag_received_at: {
        const auto n = field_reader::as_u64(v);
        if (!n) return false;
        (tag == tag_occurred_at ? e.occurred_at_ms : e.received_at_ms) = static_cast<std::int64_t>(*n);
        break;
      }
      case tag_significance: {
        const auto n = small(2);
        if (!n) return false;
        e.level = static_cast<significance>(*n);
        break;
      }
      case tag_actor_type: {
        const auto n = small(2);
        if (!n) return false;
        e.actor = static_cast<event_actor>(*n);
        break;
      }
      case tag_batch_type: {
        const auto n = small(1);
        if (!n) return false;
        e.batch = static_cast<batch_type>(*n);
        break;
      }
      default: break;
    }
  }
  return !r.malformed() && !e.id.empty() && !e.workspace_id.empty() && have_entity && have_type;
}

std::optional<event_record> decode_event(std::string_view payload) {
  event_record e;
  if (!decode_event(payload, e)) return std::nullopt;
  return e;
}

std::optional<std::array<std::uint8_t, 16>> inverted_uuid(std::string_view uuid) {
  if (!is_uuid(uuid)) return std::nullopt;
  std::array<std::uint8_t, 16> out{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    if (uuid[i] == '-') continue;
    const char c = uuid[i];
    const int nibble = c <= '9' ? c - '0' : c - 'a' + 10;
    out[n / 2] = static_cast<std::uint8_t>(out[n / 2] | (n % 2 == 0 ? nibble << 4 : nibble));
    ++n;
  }
  for (auto& b : out) b = static_cast<std::uint8_t>(~b);
  return out;
}

std::string key_prefix(std::string_view prefix) {
  std::string key(prefix);
  key.push_back('\0');
  return key;
}

std::optional<std::string> inverted_id_key(std::string_view prefix, std::string_view uuid) {
  const auto inv = inverted_uuid(uuid);
  if (!inv) return std::nullopt;
  std::string key = key_prefix(prefix);
  key.append(reinterpret_cast<const char*>(inv->data()), inv->size());
  return key;
}

void render_event(net::byte_buffer& out, const event_record& e) {
  // Per thread and reused: the writer renders every new event's answer.
  thread_local std::string scratch;
  scratch.clear();
  out.append(R"({"id":)");
  net::append_json_string(out, e.id);
  out.append(R"(,"entityId":")");
  append_entity_id_hex(scratch, e.entity);
  out.append(scratch);
  out.append(R"(","eventType":)");
  net::append_json_string(out, event_type(e.type).name);
  scratch.clear();
  append_time_ms(scratch, e.occurred_at_ms);
  out.append(R"(,"occurredAt":")");
  out.append(scratch);
  scratch.clear();
  append_time_ms(scratch, e.received_at_ms);
  out.append(R"(","receivedAt":")");
  out.append(scratch);
  out.append(R"(","significance":")");
  out.append(significance_name(e.level));
  out.append(R"(","actorType":")");
  out.append(event_actor_name(e.actor));
  out.append(R"(","batchType":")");
  out.append(batch_type_name(e.batch));
  out.append(R"(","partnerId":)");
  net::append_json_string(out, e.workspace_id);
  out.push_back('}');
}

}  // namespace warrant::engine::evidence
