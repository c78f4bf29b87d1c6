#include "engine/evidence/evidence_recovery.h"

#include <fmt/format.h>

#include <array>
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
// Events decoded ahead of the one applied (see the rebuild loop).
constexpr std::size_t ring_depth = 8;

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
  // A ring of decoded events: each one's home slot is prefetched when it is decoded and the
  // event applied `ring_depth - 1` records later, when the slot is likely in cache (the
  // rebuild is bound by those random reads). The fold is order-independent. Records are
  // reused: their strings keep their storage from record to record.
  std::array<event_record, ring_depth> ring;
  std::size_t decoded = 0;
  r.scan(table::events, {}, [&](std::string_view, std::string_view value) {
    storage::decoded_record rec;
    const storage::decode_errc err = storage::decode_record(value, rec);
    if (err != storage::decode_errc::ok) {
      throw std::runtime_error(fmt::format("corrupt record in events: {}", storage::decode_errc_name(err)));
    }
    event_record& e = ring[decoded % ring_depth];
    if (rec.type != record_type::event || !decode_event(rec.payload, e)) {
      throw std::runtime_error("undecodable record in events");
    }
    index.prefetch(e.entity);
    ++decoded;
    if (decoded >= ring_depth) index_event(index, ring[decoded % ring_depth]);  // the oldest
    return true;
  });
  for (std::size_t i = decoded < ring_depth ? 0 : decoded - ring_depth + 1; i < decoded; ++i) {
    index_event(index, ring[i % ring_depth]);
  }
  report.events = decoded;
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
