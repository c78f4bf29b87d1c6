#include "engine/evidence/evidence_recovery.h"

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>

#include "engine/evidence/claim.h"
#include "engine/evidence/event.h"
#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

using storage::record_type;
using storage::table;

// As tenancy recovery (engine/tenancy/recovery.cc): stream the file into the page cache first
// when the scan covers at least 1/16 of it, instead of faulting it in page by page.
constexpr std::size_t readahead_min_share = 16;

template <typename T, typename Decode>
T checked(std::string_view table_label, std::string_view value, record_type type, Decode decode) {
  storage::decoded_record rec;
  const storage::decode_errc e = storage::decode_record(value, rec);
  if (e != storage::decode_errc::ok) {
    throw std::runtime_error(fmt::format("corrupt record in {}: {}", table_label, storage::decode_errc_name(e)));
  }
  std::optional<T> out = rec.type == type ? std::optional<T>(decode(rec.payload)) : std::nullopt;
  if (!out) throw std::runtime_error(fmt::format("undecodable record in {}", table_label));
  return std::move(*out);
}

}  // namespace

void index_event(entity_index& index, const event_record& e) {
  index.add_event(e.entity, {index.workspace_ordinal(e.workspace_id), event_type(e.type).counts, e.occurred_at_ms,
                             e.received_at_ms});
}

void index_claim(entity_index& index, const claim_record& c) {
  index.add_claim(c.entity, c.state, c.upheld_at_ms != 0 ? c.upheld_at_ms : no_time_ms);
}

evidence_recovery_report rebuild_entity_index(storage::lmdb_store& store, entity_index& index) {
  storage::lmdb_store::reader r(store);
  return rebuild_entity_index(r, index);
}

evidence_recovery_report rebuild_entity_index(storage::lmdb_store::reader& r, entity_index& index) {
  const auto start = std::chrono::steady_clock::now();
  evidence_recovery_report report;
  storage::lmdb_store& store = r.owner();
  if ((r.pages(table::events) + r.pages(table::claims)) * readahead_min_share >= store.used_pages()) {
    report.readahead_bytes = store.readahead(storage::lmdb_store::readahead_bytes_default());
  }
  event_record e;  // reused: its strings keep their storage from record to record
  r.scan(table::events, {}, [&](std::string_view, std::string_view value) {
    storage::decoded_record rec;
    const storage::decode_errc err = storage::decode_record(value, rec);
    if (err != storage::decode_errc::ok) {
      throw std::runtime_error(fmt::format("corrupt record in events: {}", storage::decode_errc_name(err)));
    }
    if (rec.type != record_type::event || !decode_event(rec.payload, e)) {
      throw std::runtime_error("undecodable record in events");
    }
    index_event(index, e);
    ++report.events;
    return true;
  });
  r.scan(table::claims, {}, [&](std::string_view, std::string_view value) {
    index_claim(index, checked<claim_record>("claims", value, record_type::claim, decode_claim));
    ++report.claims;
    return true;
  });
  index.reclaim();
  report.entities = index.size();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace warrant::engine::evidence
