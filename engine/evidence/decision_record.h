// engine/evidence/decision_record.h: logged policy decisions, as stored in table `decisions`
// (docs/storage-format.md, "Decision records").
//
// Every answer of `POST /v1/policy/evaluate` and every evaluated item of the bulk route is
// appended to the decision log (decision_log.h) and readable at
// `GET /v1/policy/decisions/{decision_correlation_id}`, which renders it again from the stored
// fields with the same function the evaluate route uses (evaluate_response.h), so the two are
// byte-identical. `signals` (?debug=true) is never stored: the GET route answers without it.
//
// Records of type `policy_decision_group` hold several decisions made at one instant under one
// policy version (a bulk request's items; a shard's evaluates of one workspace in one
// millisecond, decision_log.h): the instant and policy version once, then the decisions in order as
// compact fields (codes, not names; whyRec as the JSON literal that was sent, since a later
// policy may word it differently, written once per group and named by number in the items
// that repeat it). The decisions' ids derive from one UUIDv7, the group id, whose last three
// hex digits are 000: item i's id is the group id with i (3 lower-case hex digits) in their
// place (`bulk_item_id`). So a decision id finds its record in at most two point lookups: the
// id itself (a group's item 0, or a record of the old form), then the id with its last three
// digits zeroed (`group_of`).
//
// Key: the group id's 16 bytes (`append_decision_group_key`). UUIDv7s sort by the time they
// were made, so the log is written at the table's end (storage::write_txn::append_or_put):
// each commit fills fresh pages instead of touching one part of the table per workspace.
// The group names its workspace (header field 5); a lookup for another workspace finds a
// record that is not its own and answers as if there were none. Value: a record envelope
// (storage/record.h) around the payload below. Groups written before that change are keyed
// `<workspace id> 0x00 <group id>` (`decision_key`) and name no workspace; they are still read.
//
// The form written before groups (type `policy_decision`, one record per decision with the
// whole answer in it) is still read: `decode_decision_payload`.
//
// Encoding appends into a caller's strings (whose capacity is reused: no allocation once they
// have grown); decoding returns views into the payload. Pure functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/evidence/claims.h"
#include "engine/evidence/decision.h"
#include "engine/evidence/evaluate_request.h"
#include "engine/evidence/policy.h"

namespace warrant::engine::evidence {

// ---- groups (written now) -----------------------------------------------------------------

// 1: every item carries its codes as separate fields, and its action and reasons in full.
// 2: one codes field per item; actions and reason codes that repeat in the group are named by
// number, as whyRec was in 1. Both are read.
inline constexpr std::uint8_t decision_group_version = 2;
// A group's item index takes the last 3 hex digits of the group id.
inline constexpr std::size_t decision_group_items_max = 4096;
static_assert(bulk_items_hard_max <= decision_group_items_max, "a bulk's item index must fit 3 hex digits");

// One decision of a group, as views (into the request, the policy, the result).
struct decision_item_view {
  decision outcome = decision::allow;
  int tier = 0;
  int required_tier = 0;
  claim_status claims = claim_status::clean;
  actor_type actor = actor_type::human;
  std::string_view action;
  std::string_view actor_id;
  std::string_view why_json;  // the whyRec sentence as sent: a JSON string literal, quotes included
  const std::string_view* reasons = nullptr;
  std::size_t reason_count = 0;
};

// The logged view of `r`, the decision on `req` (views into both: they must outlive it).
decision_item_view decision_item_of(const evaluate_request& req, const decision_result& r);

// Builds one group's payload into `out` (cleared first; its capacity is kept): the header,
// then `add` or `skip` once per item in order (`skip`: an index with no decision, a bulk item
// that was refused). Each item is measured first and written in one go.
class decision_group_writer {
 public:
  decision_group_writer(std::string& out, std::int64_t evaluated_at_ms, std::string_view policy_version,
                        std::string_view workspace_id);
  void add(const decision_item_view& d);
  void skip();
  std::size_t items() const { return _items; }

  // The strings of one kind (actions, whyRec literals, reason codes) already written in this
  // group. They repeat (a policy has few of each), so an item names one by its number instead
  // of carrying it again. The first `remembered_max` distinct ones are remembered; a later
  // new one is written out every time.
  class literals {
   public:
    static constexpr std::size_t remembered_max = 16;
    // The number of `s` when it was written before. By pointer first, over all of them: most
    // come from the policy's tables, where equal strings are one string; then by content.
    std::optional<std::size_t> find(std::string_view s) const {
      for (std::size_t i = 0; i < _remembered_count; ++i) {
        if (_remembered[i].data == s.data() && _remembered[i].size == s.size()) return _remembered[i].number;
      }
      return find_equal(s);
    }
    void written(std::string_view s);  // `s` was written out: it takes the next number

   private:
    std::optional<std::size_t> find_equal(std::string_view s) const;
    struct entry {
      const char* data;
      std::size_t size;
      std::size_t number;
    };
    std::size_t _written = 0;
    std::array<entry, remembered_max> _remembered{};
    std::size_t _remembered_count = 0;
  };

 private:
  std::string& _out;
  std::size_t _items = 0;
  literals _actions;
  literals _whys;
  literals _reasons;
};

// One stored decision, as views into the payload it was decoded from.
struct stored_decision {
  bool decided = false;  // false: the index holds no decision (a refused bulk item)
  decision outcome = decision::allow;
  int tier = 0;
  int required_tier = 0;
  claim_status claims = claim_status::clean;
  actor_type actor = actor_type::human;
  std::string_view action;
  std::string_view actor_id;
  std::string_view why_json;
  std::array<std::string_view, reasons_max> reasons{};
  std::size_t reason_count = 0;
};

struct decision_group_header {
  std::uint64_t version = 0;
  std::int64_t evaluated_at_ms = 0;
  std::string_view policy_version;
  std::string_view workspace_id;  // empty in groups written before they were keyed by group id
  std::size_t items = 0;
};

// Reads the header and item `index` (left undecided when the group has no such item). False
// when the payload is malformed anywhere (every item is checked, not only the one read).
bool decode_decision_group(std::string_view payload, std::size_t index, decision_group_header& header,
                           stored_decision& item);

// Ids. `group_id` is a fresh UUIDv7 (36 chars); a bulk's group id has its last 3 digits set to
// "000" by `make_bulk_group_id`; `bulk_item_id` writes item i's id.
inline constexpr std::size_t decision_id_index_digits = 3;
void make_bulk_group_id(char* id36);
void bulk_item_id(const char* group_id36, std::size_t index, char* out36);
// The group id and item index an id would have as a bulk item; false when its last 3
// characters are not lower-case hex or it is its own group id (index 0: the exact lookup
// already covered it).
bool group_of(std::string_view id, std::string& group_id, std::size_t& index);

// ---- single records (the form written before groups; read only) --------------------------

inline constexpr std::uint8_t decision_record_version = 1;

// The fields of one decision, as views (into the request, the policy, the response buffer).
struct decision_record_view {
  std::string_view correlation_id;
  std::string_view workspace_id;
  std::int64_t evaluated_at_ms = 0;
  std::string_view decision;  // "ALLOW" ...
  std::string_view action;
  std::string_view actor_type;  // "human" | "service"
  std::string_view actor_id;
  std::string_view policy_version;
  int tier = 0;
  int required_tier = 0;
  std::string_view claim_status;
  const std::string_view* reasons = nullptr;
  std::size_t reason_count = 0;
  std::string_view answer;  // the JSON object sent, without "signals"
};

struct decision_record {
  std::uint64_t version = 0;
  std::string correlation_id;
  std::string workspace_id;
  std::int64_t evaluated_at_ms = 0;
  std::string decision;
  std::string action;
  std::string actor_type;
  std::string actor_id;
  std::string policy_version;
  int tier = 0;
  int required_tier = 0;
  std::string claim_status;
  std::vector<std::string> reasons;
  std::string answer;
};

// Appends the payload (not the envelope) to `out`. Servers no longer write this form; tests
// use it to check that records written before groups are still read.
void encode_decision_payload(std::string& out, const decision_record_view& d);
std::optional<decision_record> decode_decision_payload(std::string_view payload);

// A group's key: the 16 bytes of `group_id` (a UUID in lower-case canonical text), appended to
// `out`. False, `out` unchanged, when `group_id` is not one.
inline constexpr std::size_t decision_group_key_bytes = 16;
bool append_decision_group_key(std::string& out, std::string_view group_id);

// `<workspace id> 0x00 <id>`, appended to `out`: the key of single records and of groups
// written before groups were keyed by group id.
void append_decision_key(std::string& out, std::string_view workspace_id, std::string_view id);
std::string decision_key(std::string_view workspace_id, std::string_view id);

}  // namespace warrant::engine::evidence
