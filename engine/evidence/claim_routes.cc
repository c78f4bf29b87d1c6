// The claim routes of evidence_routes.h: filing (idempotent), the lifecycle actions (claims.h's
// transition table, checked by the writer against the stored claim) and the list.
#include <fmt/format.h>

#include "engine/common/ids.h"
#include "engine/common/json.h"
#include "engine/evidence/claim.h"
#include "engine/evidence/create_record_cmd.h"
#include "engine/evidence/event.h"
#include "engine/evidence/evidence_recovery.h"
#include "engine/evidence/evidence_routes.h"
#include "engine/evidence/list_page.h"
#include "engine/evidence/query.h"
#include "engine/idempotency/canonical_json.h"
#include "engine/idempotency/command.h"
#include "engine/idempotency/key.h"
#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

using net::request_context;
using storage::apply_status;
using storage::table;

constexpr std::string_view claims_scope = "/v1/claims";  // idempotency scope of both aliases

std::optional<claim_record> load_claim(storage::write_txn& txn, std::string_view key) {
  const auto raw = txn.get(table::claims, key);
  if (!raw) return std::nullopt;
  storage::decoded_record rec;
  if (storage::decode_record(*raw, rec) != storage::decode_errc::ok || rec.type != storage::record_type::claim) {
    return std::nullopt;
  }
  return decode_claim(rec.payload);
}

struct claim_traits {
  using record = claim_record;
  static constexpr table where = table::claims;
  static constexpr storage::record_type type = storage::record_type::claim;
  static constexpr std::string_view clash_message = "a claim with this id exists";
  static std::optional<std::string> key(const claim_record& c) { return claim_key(c.identity_namespace, c.id); }
  static std::string encode(const claim_record& c) { return encode_claim(c); }
  static void render(net::byte_buffer& out, const claim_record& c) { render_claim(out, c); }
  static void index(entity_index& i, const claim_record& c) { index_claim(i, c); }
};
using file_claim_cmd = create_record_cmd<claim_traits>;

// One lifecycle action on a stored claim. The writer decides against the claim as stored in
// its transaction (which holds every earlier command of the batch), so two racing actions on
// one claim are serialised: the second sees the first's state.
class claim_action_cmd final : public request_command {
 public:
  claim_action_cmd(net::shard& s, net::deferred_response t, entity_index& index, std::string key,
                   std::string workspace_id, claim_action action, std::string reason, std::int64_t now_ms)
      : request_command(s, t),
        _index(index),
        _key(std::move(key)),
        _workspace_id(std::move(workspace_id)),
        _action(action),
        _reason(std::move(reason)),
        _now_ms(now_ms) {}

  apply_status apply(storage::write_txn& txn, storage::log_appender&) override {
    auto c = load_claim(txn, _key);
    if (!c) return apply_status::rejected;  // _verdict stays not_found
    _from = c->state;
    const claim_transition_result t = check_claim_transition(c->state, _action, c->workspace_id == _workspace_id);
    if (!t.ok()) {
      _error = t.error;
      _claim = std::move(*c);
      return apply_status::rejected;
    }
    c->state = t.to;
    c->updated_at_ms = _now_ms;
    if (t.to == claim_state::upheld) c->upheld_at_ms = _now_ms;
    if (_action == claim_action::dispute && !_reason.empty()) c->dispute_reason = _reason;
    txn.put(table::claims, _key, storage::encode_record(storage::record_type::claim, encode_claim(*c)));
    _claim = std::move(*c);
    return apply_status::applied;
  }
  void publish() override { _index.transition_claim(_claim.entity, _from, _claim.state, _now_ms); }

 protected:
  void respond(storage::outcome result, net::http_response& res) override {
    if (result == storage::outcome::committed) return render_claim(res.body(), _claim);
    if (_claim.id.empty()) return res.set_error(404, "NOT_FOUND", "claim not found");
    const std::string_view action = claim_action_name(_action);
    const std::string_view state = claim_state_name(_claim.state);
    if (_error == claim_transition_errc::not_filer) {
      return res.set_error(403, "FORBIDDEN", fmt::format("only the workspace that filed this claim may {} it", action));
    }
    // 409 with the claim's current status, as a member of the error object too.
    res.set_status(409);
    net::byte_buffer& out = res.body();
    out.clear();
    out.append(R"({"error":)");
    net::append_json_string(out, fmt::format("cannot {} a claim that is {}", action, state));
    out.append(R"(,"code":"INVALID_CLAIM_TRANSITION","hint":)");
    net::append_json_string(out, "dispute applies to open claims; uphold, dismiss and withdraw to open or disputed ones");
    out.append(R"(,"status":")");
    out.append(state);
    out.append("\"}");
  }

 private:
  entity_index& _index;
  std::string _key;
  std::string _workspace_id;
  claim_action _action;
  std::string _reason;
  std::int64_t _now_ms;
  claim_record _claim;
  claim_state _from = claim_state::open;
  claim_transition_errc _error = claim_transition_errc::ok;
};

void file_claim(evidence_api& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  idempotency::parsed_key client_key;
  const idempotency::key_presence presence = idempotency::read_key(ctx.req, client_key);
  if (presence == idempotency::key_presence::invalid) return idempotency::answer_invalid_key(ctx.res);
  claim_request request;
  json_error err;
  if (!parse_claim_request(ctx.req.body, request, err)) return answer_json_error(err, ctx.res);
  std::string canonical;
  const idempotency::canonical_result cr = idempotency::canonicalize(ctx.req.body, canonical);
  if (!cr.ok()) return answer_canonical_error(cr.offset, idempotency::canonical_errc_message(cr.error), ctx.res);

  claim_record c;
  c.workspace_id = who.workspace_id();
  c.identity_namespace = who.ws.identity_namespace;
  const idempotency::request_identity id{c.workspace_id, "POST", claims_scope, canonical,
                                         idempotency::key_kind::client, client_key.view()};
  const std::int64_t now = unix_now_ms();
  idempotency::ticket t;
  if (!api.idempotency.admit(id, ctx.owner.index(), now, ctx.res, t)) return;
  c.id = new_uuid_v7(now);
  c.entity = compute_entity_id(c.identity_namespace, request.user_external_id);
  c.type = request.type;
  c.state = claim_state::open;
  c.filed_at_ms = now;
  c.occurred_at_ms = request.occurred_at_ms.value_or(0);
  c.reference = std::move(request.reference);
  c.updated_at_ms = now;
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx, std::make_unique<file_claim_cmd>(ctx.owner, token, std::move(t), api.entities, std::move(c)));
}

void act_on_claim(evidence_api& api, request_context& ctx, const principal& who, claim_action action) {
  const bool has_body = ctx.req.body.find_first_not_of(" \t\r\n") != std::string_view::npos;
  if (has_body && !require_json_content_type(ctx.req, ctx.res)) return;
  std::string reason;
  json_error err;
  if (!parse_claim_action_body(ctx.req.body, action, reason, err)) return answer_json_error(err, ctx.res);
  // A claim is found within the caller's identity namespace only: another namespace's claim
  // id is answered 404, exactly as an id that does not exist.
  const auto key = claim_key(who.ws.identity_namespace, ctx.params.get("id"));
  if (!key) return ctx.res.set_error(404, "NOT_FOUND", "claim not found");
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx,
         std::make_unique<claim_action_cmd>(ctx.owner, token, api.entities, *key, std::string(who.workspace_id()),
                                            action, std::move(reason), unix_now_ms()));
}

struct claim_filter {
  std::optional<entity_id> entity;
  std::optional<claim_state> state;
  bool matches(const claim_record& c, std::string_view workspace_id) const {
    return c.workspace_id == workspace_id && (!entity || c.entity == *entity) && (!state || c.state == *state);
  }
};

bool parse_claim_filter(request_context& ctx, const principal& who, claim_filter& f) {
  std::string text;
  bool present = false;
  if (!decoded_param(ctx.req.query, "userExternalId", text, present, ctx.res)) return false;
  if (present) {
    if (text.empty() || text.size() > user_external_id_bytes_max) {
      ctx.res.set_error(400, "VALIDATION_ERROR", "userExternalId must be 1 to 255 bytes");
      return false;
    }
    f.entity = compute_entity_id(who.ws.identity_namespace, text);
  }
  if (!decoded_param(ctx.req.query, "status", text, present, ctx.res)) return false;
  if (present) {
    f.state = claim_state_from_name(text);
    if (!f.state) {
      ctx.res.set_error(400, "VALIDATION_ERROR", "status must be one of open, disputed, upheld, dismissed, withdrawn");
      return false;
    }
  }
  return true;
}

void list_claims(evidence_api& api, request_context& ctx, const principal& who) {
  std::size_t limit = 0;
  claim_filter filter;
  if (!parse_limit(ctx.req.query, limit, ctx.res) || !parse_claim_filter(ctx, who, filter)) return;
  const std::string_view ns = who.ws.identity_namespace;
  std::string from;
  if (!parse_page_start(ctx.req.query, ns, from, ctx.res)) return;
  list_page<claim_record> page;
  try {
    storage::lmdb_store::reader r(api.store);
    page = read_page<claim_record>(
        r, table::claims, storage::record_type::claim, ns, from, limit, list_scan_records_max,
        [](std::string_view payload) { return decode_claim(payload); },
        [&filter, &who](const claim_record& c) { return filter.matches(c, who.workspace_id()); });
  } catch (const std::exception& e) {
    return answer_read_failure(ctx.res, "listing claims", e);
  }
  write_page(ctx.res.body(), "claims", page, render_claim);
}

}  // namespace

void register_claim_routes(net::router& routes, guard& g, evidence_api& api) {
  for (std::string_view base : {"/v1/claims", "/claims"}) {
    g.route(routes, net::http_method::post, base,
            [&api](request_context& ctx, const principal& who) { file_claim(api, ctx, who); });
    g.route(routes, net::http_method::get, base,
            [&api](request_context& ctx, const principal& who) { list_claims(api, ctx, who); });
    for (const claim_transition& t : claim_transitions) {
      const std::string pattern = fmt::format("{}/{{id}}/{}", base, claim_action_name(t.action));
      const claim_action action = t.action;
      g.route(routes, net::http_method::post, pattern,
              [&api, action](request_context& ctx, const principal& who) { act_on_claim(api, ctx, who, action); });
    }
  }
}

}  // namespace warrant::engine::evidence
