// engine/evidence/list_page.h: one newest-first page of a list route (GET /v1/events,
// GET /v1/claims), read from LMDB in the caller's short read transaction.
//
// Records live under `<owner> 0x00 <inverted UUIDv7 id>` (event.h, claim.h), so a forward
// scan from `<owner> 0x00` is newest first and stays inside the owner's range. The cursor is
// the id of the last record a page considered; the next page starts at the first key after
// it. A page reads at most `scan_budget` records: when filters match little, it ends early,
// possibly empty, with a cursor to continue from (docs/api-evidence.md "Paging"). A full page
// carries a cursor only when one more record matches.
//
// Shard threads; allocation: the page's records and the cursor string.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/json_out.h"
#include "engine/evidence/event.h"
#include "net/byte_buffer.h"
#include "storage/lmdb_store.h"
#include "storage/record.h"

namespace warrant::engine::evidence {

// Where a page starts: `<owner> 0x00`, or just after `cursor`'s key. nullopt when the cursor
// is not an id.
inline std::optional<std::string> page_start_key(std::string_view owner, std::optional<std::string_view> cursor) {
  if (!cursor) return key_prefix(owner);
  auto key = inverted_id_key(owner, *cursor);
  if (key) key->push_back('\0');  // the first key after the cursor's (keys of one owner have one length)
  return key;
}

template <typename Record>
struct list_page {
  std::vector<Record> records;
  std::string next_cursor;  // empty: none (JSON null)
};

// `decode(payload) -> std::optional<Record>`, `matches(const Record&) -> bool`. Throws
// std::runtime_error on a record that does not decode (the caller answers 503).
template <typename Record, typename Decode, typename Match>
list_page<Record> read_page(storage::lmdb_store::reader& r, storage::table t, storage::record_type type,
                            std::string_view owner, std::string_view from, std::size_t limit, std::size_t scan_budget,
                            Decode&& decode, Match&& matches) {
  list_page<Record> page;
  const std::string prefix = key_prefix(owner);
  std::size_t scanned = 0;
  r.scan(t, from, [&](std::string_view key, std::string_view value) {
    if (!key.starts_with(prefix)) return false;
    storage::decoded_record rec;
    std::optional<Record> record;
    if (storage::decode_record(value, rec) == storage::decode_errc::ok && rec.type == type) record = decode(rec.payload);
    if (!record) throw std::runtime_error(std::string("undecodable record in ") + std::string(storage::table_name(t)));
    if (matches(*record)) {
      if (page.records.size() == limit) {  // one more matches: the next page starts after the last kept
        page.next_cursor = page.records.back().id;
        return false;
      }
      page.records.push_back(std::move(*record));
      if (++scanned == scan_budget) {
        page.next_cursor = page.records.back().id;
        return false;
      }
      return true;
    }
    if (++scanned == scan_budget) {  // budget spent: the next page continues from here
      page.next_cursor = record->id;
      return false;
    }
    return true;
  });
  return page;
}

// A list route's answer: {"<member>":[render(out, record)...],"nextCursor":"…" or null}.
template <typename Record, typename Render>
void write_page(net::byte_buffer& out, std::string_view member, const list_page<Record>& page, Render&& render) {
  out.append(R"({")");
  out.append(member);
  out.append(R"(":[)");
  for (std::size_t i = 0; i < page.records.size(); ++i) {
    if (i) out.push_back(',');
    render(out, page.records[i]);
  }
  out.append(R"(],"nextCursor":)");
  put_string_or_null(out, page.next_cursor);
  out.push_back('}');
}

}  // namespace warrant::engine::evidence
