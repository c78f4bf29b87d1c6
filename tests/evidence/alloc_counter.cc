// tests/evidence/alloc_counter.cc: the replacement global operator new/delete behind
// alloc_counter.h (kept in its own file so no caller sees both halves inlined).
//
// Only the counting thread's allocations count. The code under test runs on the calling
// thread (a shard's hot path); other threads of the fixture, such as the storage writer
// finishing an earlier commit, may allocate meanwhile, and counting them made the
// "allocates nothing" tests fail when the machine was busy.
#include "alloc_counter.h"

#include <cstdlib>
#include <new>

namespace {
thread_local bool counting = false;
thread_local std::size_t allocations = 0;
}  // namespace

namespace warrant::engine::evidence::test {

void start_counting_allocations() {
  allocations = 0;
  counting = true;
}

std::size_t stop_counting_allocations() {
  counting = false;
  return allocations;
}

}  // namespace warrant::engine::evidence::test

// GCC 12 cannot see that every form of new and delete here agrees on malloc/free.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (counting) ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms too: left to the runtime, they would pair its allocator with free() above.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (counting) ++allocations;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept { return operator new(n, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
