// tools/ctl_records.h: stored records as JSON, for `warrantctl export`.
//
// One log record becomes one JSON object: {"seq":N,"type":"<name>", ...decoded fields...}.
// Field names and time formats follow the admin API (docs/api-admin.md); an API key shows
// its prefix, last4 and the hex SHA-256 that is stored, never a secret (none is stored).
// Types this version does not know are exported as {"seq","type":"unknown","record_type",
// "payload_bytes"} so a newer log still exports. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/record.h"

namespace warrant::tools {

// "workspace_created", "key_created", "key_revoked", "limits_set", or "" for other types.
std::string_view log_type_name(storage::record_type type);

// Appends the JSON object (no newline) for the log record at `seq`. False, with `error` set,
// when the payload of a known type does not decode.
bool append_log_record_json(std::string& out, std::uint64_t seq, const storage::decoded_record& rec,
                            std::string& error);

}  // namespace warrant::tools
