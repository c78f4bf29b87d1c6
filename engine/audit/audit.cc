#include "engine/audit/audit.h"

#include "engine/common/ids.h"
#include "engine/evidence/event.h"
#include "storage/record.h"

namespace warrant::engine {
namespace {

using storage::field_reader;
using storage::field_writer;

// Field tags of an audit entry (on disk, never reused; docs/storage-format.md "audit").
enum : std::uint8_t {
  tag_id = 1,
  tag_workspace_id = 2,
  tag_actor_key_id = 3,
  tag_actor_id = 4,
  tag_target_type = 5,
  tag_target_id = 6,
  tag_action = 7,
  tag_before_status = 8,
  tag_after_status = 9,
  tag_at = 10,
};

}  // namespace

std::string encode_audit_entry(const audit_entry& e) {
  field_writer w;
  w.bytes(tag_id, e.id)
      .bytes(tag_workspace_id, e.workspace_id)
      .bytes(tag_actor_key_id, e.actor_key_id)
      .bytes(tag_actor_id, e.actor_id)
      .bytes(tag_target_type, e.target_type)
      .bytes(tag_target_id, e.target_id)
      .bytes(tag_action, e.action)
      .i64(tag_at, e.at_ms);
  // Absent statuses are absent fields: most entries have one of the two only.
  if (!e.before_status.empty()) w.bytes(tag_before_status, e.before_status);
  if (!e.after_status.empty()) w.bytes(tag_after_status, e.after_status);
  return w.take();
}

std::optional<audit_entry> decode_audit_entry(std::string_view payload) {
  audit_entry e;
  bool have_id = false, have_ws = false, have_action = false, have_at = false;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view value;
  while (r.next(tag, value)) {
    switch (tag) {
      case tag_id: e.id = value; have_id = true; break;
      case tag_workspace_id: e.workspace_id = value; have_ws = true; break;
      case tag_actor_key_id: e.actor_key_id = value; break;
      case tag_actor_id: e.actor_id = value; break;
      case tag_target_type: e.target_type = value; break;
      case tag_target_id: e.target_id = value; break;
      case tag_action: e.action = value; have_action = true; break;
      case tag_before_status: e.before_status = value; break;
      case tag_after_status: e.after_status = value; break;
      case tag_at: {
        const auto v = field_reader::as_u64(value);
        if (!v) return std::nullopt;
        e.at_ms = static_cast<std::int64_t>(*v);
        have_at = true;
        break;
      }
      default: break;  // a field a later version added: skipped
    }
  }
  if (r.malformed() || !have_id || !have_ws || !have_action || !have_at) return std::nullopt;
  return e;
}

std::optional<std::string> audit_storage_key(std::string_view workspace_id, std::string_view id) {
  return evidence::inverted_id_key(workspace_id, id);
}

void append_audit(storage::write_txn& txn, const audit_entry& e) {
  if (auto key = audit_storage_key(e.workspace_id, e.id)) {
    txn.put(storage::table::audit, *key,
            storage::encode_record(storage::record_type::audit_entry, encode_audit_entry(e)));
    return;
  }
  audit_entry with_id = e;
  with_id.id = new_uuid_v7(e.at_ms > 0 ? e.at_ms : unix_now_ms());
  txn.put(storage::table::audit, *audit_storage_key(with_id.workspace_id, with_id.id),
          storage::encode_record(storage::record_type::audit_entry, encode_audit_entry(with_id)));
}

}  // namespace warrant::engine
