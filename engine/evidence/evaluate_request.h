// engine/evidence/evaluate_request.h: the body of `POST /v1/policy/evaluate` (and one item of
// `/v1/policy/evaluate/bulk`), read strictly with simdjson's on-demand API.
//
//   {"actor": {"type": "human"|"service", "id": str}, "action": str,
//    "resource"?: {...}, "context"?: {...}}          or a flat "actor_id": str
//
// Rules (docs/policy-file.md, "The evaluate request"):
//   - actor.id (or actor_id) is required, 1..255 bytes; missing, null or empty answers exactly
//     400 {"error":"Missing required field: actor.id","hint":"Provide an org-scoped identifier
//     for the actor"} (the seed's bytes: no "code"). Both given and different: 400.
//   - actor.type defaults to "human".
//   - action is required and must be in the policy: else 400 UNKNOWN_ACTION, whose hint names
//     GET /v1/policy/actions.
//   - context members that some policy rule names are kept (the rules' kind: number, string or
//     boolean; another type is a 400, null is "absent", a repeat is a 400); other members and
//     `resource` are read to check they are well-formed JSON and then ignored.
//   - Unknown top-level or actor members: 400 UNKNOWN_FIELD. A member given twice: 400.
// Errors are checked in a fixed order so that one body always gets the same answer: JSON
// syntax and member types as met, then actor.id, then action.
//
// Views in the result (actor id, context strings) point into this thread's simdjson parser and
// stay valid until the thread parses another body. No allocation unless an error is reported.
// Any thread (each uses its own parser, engine/common/json.h).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include "engine/common/json.h"
#include "engine/evidence/decision.h"
#include "engine/evidence/policy.h"
#include "net/byte_buffer.h"

namespace warrant::engine::evidence {

enum class actor_type : std::uint8_t { human, service };
std::string_view actor_type_name(actor_type t);  // "human" | "service"

struct evaluate_request {
  actor_type actor = actor_type::human;
  std::string_view actor_id;
  const action_policy* action = nullptr;  // in the policy given to the parser
  context_values context;
};

// The seed's error for a missing actor id, byte for byte.
inline constexpr std::string_view missing_actor_id_message = "Missing required field: actor.id";
inline constexpr std::string_view missing_actor_id_hint = "Provide an org-scoped identifier for the actor";
inline constexpr std::string_view missing_actor_id_body =
    R"({"error":"Missing required field: actor.id","hint":"Provide an org-scoped identifier for the actor"})";

// A whole request body. On failure `err` holds the answer (status 400).
bool parse_evaluate_request(std::string_view body, const policy& p, evaluate_request& out, json_error& err);

// One object already positioned by the caller (an item of the bulk route's "evaluations").
// Malformed JSON inside it is reported without a byte offset; the caller's iteration can go on
// to the next item after a validation error, not after malformed JSON.
bool parse_evaluate_object(simdjson::ondemand::object& obj, const policy& p, evaluate_request& out, json_error& err);

// {"error":...,"code":...,"hint":...} with "code" left out when empty and "hint" when empty,
// so the missing-actor error comes out as the seed shows it.
void append_error_json(net::byte_buffer& out, const json_error& err);

}  // namespace warrant::engine::evidence
