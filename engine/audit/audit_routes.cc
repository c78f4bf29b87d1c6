#include "engine/audit/audit_routes.h"

#include <fmt/format.h>

#include <limits>
#include <optional>
#include <string>

#include "engine/common/json_out.h"
#include "engine/common/ids.h"
#include "engine/common/json.h"
#include "engine/evidence/evidence_routes.h"
#include "engine/evidence/list_page.h"
#include "engine/evidence/query.h"

namespace warrant::engine {
namespace {

using net::request_context;

// Longest accepted filter value: an identifier (spec/common.md "Limits").
constexpr std::size_t filter_bytes_max = identifier_bytes_max;

struct audit_filter {
  std::optional<std::string> target_id;
  std::optional<std::string> action;
  std::optional<std::string> actor_id;
  std::int64_t since_ms = std::numeric_limits<std::int64_t>::min();  // at >= since
  std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();  // at < until

  bool matches(const audit_entry& e) const {
    return (!target_id || e.target_id == *target_id) && (!action || e.action == *action) &&
           (!actor_id || e.actor_id == *actor_id) && e.at_ms >= since_ms && e.at_ms < until_ms;
  }
};

bool parse_text_filter(std::string_view query, std::string_view name, std::optional<std::string>& out,
                       net::http_response& res) {
  std::string text;
  bool present = false;
  if (!evidence::decoded_param(query, name, text, present, res)) return false;
  if (!present) return true;
  if (text.empty() || text.size() > filter_bytes_max) {
    res.set_error(400, "VALIDATION_ERROR", fmt::format("{} must be 1 to {} bytes", name, filter_bytes_max));
    return false;
  }
  out = std::move(text);
  return true;
}

bool parse_audit_filter(std::string_view query, audit_filter& f, net::http_response& res) {
  return parse_text_filter(query, "target_id", f.target_id, res) && parse_text_filter(query, "action", f.action, res) &&
         parse_text_filter(query, "actor_id", f.actor_id, res) &&
         evidence::parse_time_param(query, "since", f.since_ms, res) &&
         evidence::parse_time_param(query, "until", f.until_ms, res);
}

void list_audit(storage::lmdb_store& store, request_context& ctx, const principal& who) {
  std::size_t limit = 0;
  audit_filter filter;
  std::string from;
  if (!evidence::parse_limit(ctx.req.query, limit, ctx.res) || !parse_audit_filter(ctx.req.query, filter, ctx.res) ||
      !evidence::parse_page_start(ctx.req.query, who.workspace_id(), from, ctx.res)) {
    return;
  }
  evidence::list_page<audit_entry> page;
  try {
    storage::lmdb_store::reader r(store);
    page = evidence::read_page<audit_entry>(
        r, storage::table::audit, storage::record_type::audit_entry, who.workspace_id(), from, limit,
        evidence::list_scan_records_max, [](std::string_view payload) { return decode_audit_entry(payload); },
        [&filter](const audit_entry& e) { return filter.matches(e); });
  } catch (const std::exception& e) {
    return evidence::answer_read_failure(ctx.res, "listing the audit trail", e);
  }
  evidence::write_page(ctx.res.body(), "entries", page, render_audit_entry);
}

}  // namespace

void render_audit_entry(net::byte_buffer& out, const audit_entry& e) {
  out.append(R"({"id":)");
  net::append_json_string(out, e.id);
  out.append(R"(,"at":)");
  put_time_or_null(out, e.at_ms);  // always set: a quoted time, written without a fresh string
  out.append(R"(,"action":)");
  net::append_json_string(out, e.action);
  out.append(R"(,"actorKeyId":)");
  put_string_or_null(out, e.actor_key_id);
  out.append(R"(,"actorId":)");
  put_string_or_null(out, e.actor_id);
  out.append(R"(,"targetType":)");
  put_string_or_null(out, e.target_type);
  out.append(R"(,"targetId":)");
  put_string_or_null(out, e.target_id);
  out.append(R"(,"beforeStatus":)");
  put_string_or_null(out, e.before_status);
  out.append(R"(,"afterStatus":)");
  put_string_or_null(out, e.after_status);
  out.push_back('}');
}

void register_audit_routes(net::router& routes, guard& g, storage::lmdb_store& store) {
  g.route(routes, net::http_method::get, "/v1/audit",
          [&store](request_context& ctx, const principal& who) { list_audit(store, ctx, who); });
}

}  // namespace warrant::engine
