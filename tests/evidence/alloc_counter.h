// tests/evidence/alloc_counter.h: counts calls of the global operator new, which
// alloc_counter.cc replaces for the evidence_tests binary, on the calling thread, while a
// function runs.
#pragma once

#include <cstddef>
#include <utility>

namespace warrant::engine::evidence::test {

void start_counting_allocations();
std::size_t stop_counting_allocations();

template <typename F>
std::size_t count_allocations(F&& f) {
  start_counting_allocations();
  std::forward<F>(f)();
  return stop_counting_allocations();
}

}  // namespace warrant::engine::evidence::test
