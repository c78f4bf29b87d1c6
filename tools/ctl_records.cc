#include "tools/ctl_records.h"

#include "engine/agents/model.h"
#include "engine/tenancy/model.h"
#include "tools/ctl_json.h"

namespace warrant::tools {
namespace {

using storage::record_type;

void workspace_fields(json_out& j, const engine::workspace& w) {
  j.member("id", w.id).member("name", w.name).member("identity_namespace", w.identity_namespace);
  j.member("requests_per_minute", std::uint64_t{w.requests_per_minute});
  j.key("created_at").time_or_null(w.created_at_ms);
}

void key_fields(json_out& j, const engine::api_key_record& k) {
  j.member("id", k.id).member("workspace_id", k.workspace_id).member("name", k.name);
  j.member("prefix", k.prefix).member("last4", k.last4).member("sha256", engine::hex(k.hash));
  j.key("roles").begin_array();
  engine::for_each_role(k.roles, [&j](std::string_view role) { j.str(role); });
  j.end_array();
  if (k.requests_per_minute != 0) j.member("requests_per_minute", std::uint64_t{k.requests_per_minute});
  j.key("created_at").time_or_null(k.created_at_ms);
  j.key("expires_at").time_or_null(k.expires_at_ms);
  j.key("revoked_at").time_or_null(k.revoked_at_ms);
}

// Fills `j` with the record's fields; false when its payload does not decode.
bool decoded_fields(json_out& j, const storage::decoded_record& rec) {
  switch (rec.type) {
    case record_type::log_workspace_created: {
      const auto w = engine::decode_workspace(rec.payload);
      if (w) workspace_fields(j, *w);
      return w.has_value();
    }
    case record_type::log_key_created: {
      const auto k = engine::decode_api_key(rec.payload);
      if (k) key_fields(j, *k);
      return k.has_value();
    }
    case record_type::log_key_revoked: {
      const auto r = engine::decode_key_revocation(rec.payload);
      if (!r) return false;
      j.member("workspace_id", r->workspace_id).member("key_id", r->key_id);
      j.key("revoked_at").time_or_null(r->revoked_at_ms);
      return true;
    }
    case record_type::log_limits_set: {
      const auto c = engine::decode_limits_change(rec.payload);
      if (!c) return false;
      j.member("workspace_id", c->workspace_id).member("requests_per_minute", std::uint64_t{c->requests_per_minute});
      return true;
    }
    case record_type::log_key_erased: {
      const auto e = engine::decode_key_erasure(rec.payload);
      if (!e) return false;
      j.member("workspace_id", e->workspace_id).member("key_id", e->key_id);
      return true;
    }
    case record_type::log_agent_written: {
      const auto a = engine::decode_agent(rec.payload);
      if (!a) return false;
      j.member("id", a->id).member("workspace_id", a->workspace_id).member("name", a->name);
      j.member("status", engine::agent_state_name(a->status)).member("parent_id", a->parent_id);
      j.member("depth", std::uint64_t{a->depth}).member("key_id", a->key_id);
      return true;
    }
    case record_type::log_spawn_policy_set: {
      const auto p = engine::decode_spawn_policy(rec.payload);
      if (!p) return false;
      j.member("workspace_id", p->workspace_id).member("enabled", p->enabled);
      j.member("max_depth", std::uint64_t{p->max_depth}).member("approval_depth", std::uint64_t{p->approval_depth});
      j.member("max_children", std::uint64_t{p->max_children});
      return true;
    }
    default:
      j.member("record_type", std::uint64_t{static_cast<std::uint8_t>(rec.type)});
      j.member("payload_bytes", std::uint64_t{rec.payload.size()});
      return true;
  }
}

}  // namespace

std::string_view log_type_name(record_type type) {
  switch (type) {
    case record_type::log_workspace_created: return "workspace_created";
    case record_type::log_key_created: return "key_created";
    case record_type::log_key_revoked: return "key_revoked";
    case record_type::log_limits_set: return "limits_set";
    case record_type::log_key_erased: return "key_erased";
    case record_type::log_agent_written: return "agent_written";
    case record_type::log_spawn_policy_set: return "spawn_policy_set";
    default: return "";
  }
}

bool append_log_record_json(std::string& out, std::uint64_t seq, const storage::decoded_record& rec, std::string& error) {
  const std::string_view name = log_type_name(rec.type);
  json_out j;
  j.begin_object().member("seq", seq).member("type", name.empty() ? std::string_view("unknown") : name);
  if (!decoded_fields(j, rec)) {
    error = std::string("undecodable ") + std::string(name) + " payload";
    return false;
  }
  j.end_object();
  out.append(j.text());
  return true;
}

}  // namespace warrant::tools
