// engine/evidence/catalogue.h: the fixed event catalogue of spec/evidence.md, as one table.
//
// What it is for: `POST /v1/events` turns an `eventType` string into a dense id (unknown →
// 400 INVALID_EVENT_TYPE), the entity index reads the id's polarity and whether it counts
// toward tier volume, and `GET /v1/events/types` lists the table. The table below is the
// only place the catalogue is written down; everything else reads it.
//
// Lookup is on the ingest hot path: `find_event_type` hashes the name once with a seed found
// at compile time that maps every catalogue name to its own slot of a 256-entry table (a
// perfect hash, checked by static_assert), then compares one candidate. No allocation, no
// branches on the table size.
//
// Pure constants and functions: any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "net/byte_buffer.h"

namespace warrant::engine::evidence {

enum class event_category : std::uint8_t { transaction, account, review, rating, message, ai, gig, lending, social, signal };
enum class polarity : std::int8_t { negative = -1, neutral = 0, positive = 1 };

// Dense id of a catalogue type: its row in `event_catalogue`. Stable only within one build;
// store the type's name, never this number.
enum class event_type_id : std::uint8_t {};

struct event_type_info {
  std::string_view name;  // "category.action"
  event_category category;
  polarity sign;
  bool counts;  // counts toward tier volume
};

// spec/evidence.md "Event catalogue", in the spec's order (also the order of GET /v1/events/types).
inline constexpr std::array event_catalogue = [] {
  using c = event_category;
  constexpr polarity pos = polarity::positive;
  constexpr polarity neu = polarity::neutral;
  constexpr polarity neg = polarity::negative;
  return std::array<event_type_info, 49>{{
      {"transaction.initiated", c::transaction, neu, false},
      {"transaction.completed", c::transaction, pos, true},
      {"transaction.fulfilled", c::transaction, pos, true},
      {"transaction.cancelled", c::transaction, neu, false},
      {"transaction.refunded", c::transaction, neu, false},
      {"transaction.disputed", c::transaction, neg, false},
      {"transaction.chargeback", c::transaction, neg, false},
      {"account.created", c::account, neu, true},
      {"account.verified", c::account, pos, true},
      {"account.updated", c::account, neu, false},
      {"account.reinstated", c::account, pos, false},
      {"account.suspended", c::account, neg, false},
      {"account.closed", c::account, neu, false},
      {"review.submitted", c::review, pos, true},
      {"review.received", c::review, pos, true},
      {"review.removed", c::review, neg, false},
      {"rating.given", c::rating, pos, true},
      {"rating.received", c::rating, neu, true},
      {"rating.flagged", c::rating, neg, false},
      {"message.sent", c::message, neu, true},
      {"message.received", c::message, neu, false},
      {"message.response_provided", c::message, pos, true},
      {"message.reported", c::message, neg, false},
      {"ai.task.completed", c::ai, pos, true},
      {"ai.task.failed", c::ai, neu, false},
      {"ai.action.approved", c::ai, pos, true},
      {"ai.action.rejected", c::ai, neg, false},
      {"ai.tool.invoked", c::ai, neu, true},
      {"ai.escalated", c::ai, neu, false},
      {"ai.policy_violation", c::ai, neg, false},
      {"gig.accepted", c::gig, neu, true},
      {"gig.completed", c::gig, pos, true},
      {"gig.paid", c::gig, pos, true},
      {"gig.cancelled", c::gig, neu, false},
      {"gig.no_show", c::gig, neg, false},
      {"lending.application_submitted", c::lending, neu, false},
      {"lending.disbursed", c::lending, pos, true},
      {"lending.repayment_made", c::lending, pos, true},
      {"lending.paid_off", c::lending, pos, true},
      {"lending.repayment_late", c::lending, neg, false},
      {"lending.defaulted", c::lending, neg, false},
      {"social.post_created", c::social, neu, true},
      {"social.connection_made", c::social, pos, true},
      {"social.content_removed", c::social, neg, false},
      {"social.report_received", c::social, neg, false},
      {"signal.fraud_suspected", c::signal, neg, false},
      {"signal.identity_mismatch", c::signal, neg, false},
      {"signal.velocity_anomaly", c::signal, neg, false},
      {"signal.device_shared", c::signal, neg, false},
  }};
}();

inline constexpr std::size_t event_type_count = event_catalogue.size();
static_assert(event_type_count <= 255, "event_type_id is one byte");

// The spec's invariant: negative and signal.* events never count.
inline constexpr bool catalogue_counts_rule_holds() {
  for (const auto& t : event_catalogue) {
    if (t.counts && (t.sign == polarity::negative || t.category == event_category::signal)) return false;
  }
  return true;
}
static_assert(catalogue_counts_rule_holds());

// Longest name in the catalogue; anything longer is rejected before hashing.
inline constexpr std::size_t event_type_name_bytes_max = [] {
  std::size_t n = 0;
  for (const auto& t : event_catalogue) n = t.name.size() > n ? t.name.size() : n;
  return n;
}();

std::optional<event_type_id> find_event_type(std::string_view name);

inline const event_type_info& event_type(event_type_id id) {
  return event_catalogue[static_cast<std::size_t>(id)];
}

std::string_view category_name(event_category c);
std::string_view polarity_name(polarity p);  // "positive" | "neutral" | "negative"

// The body of `GET /v1/events/types` (documented in docs/policy-file.md, "Event types"):
// {"types":[{"type":"transaction.initiated","category":"transaction","polarity":"neutral",
//   "counts":false}, ...]} in catalogue order. Rendered once; the view lives forever.
std::string_view event_types_json();
void append_event_types_json(net::byte_buffer& out);

}  // namespace warrant::engine::evidence
