// net/timer_list.h: deadlines for connections, O(1) to arm, disarm and expire.
//
// Every timeout of a given kind (header, body, idle, send, linger) has the same duration, so
// a FIFO list of the connections waiting on that kind is already sorted by deadline: arming
// appends, expiring pops from the front while the front is due. An element is on at most one
// list at a time (intrusive links). Shard-thread only.
#pragma once

#include <cassert>
#include <cstdint>

namespace warrant::net {

struct timer_link {
  timer_link* prev = nullptr;
  timer_link* next = nullptr;
  std::int64_t deadline_ms = 0;
  std::uint8_t list = 0;  // which list holds it; 0 = none

  bool linked() const { return list != 0; }
};

class timer_list {
 public:
  timer_list(std::uint8_t id, std::int64_t duration_ms) : _id(id), _duration_ms(duration_ms) {
    assert(id != 0);
  }

  std::int64_t duration_ms() const { return _duration_ms; }

  // Arms `l` (unlinked) to expire at now + duration.
  void push(timer_link& l, std::int64_t now_ms) {
    assert(!l.linked());
    l.deadline_ms = now_ms + _duration_ms;
    l.list = _id;
    l.next = nullptr;
    l.prev = _tail;
    if (_tail) _tail->next = &l; else _head = &l;
    _tail = &l;
    ++_size;
  }

  void remove(timer_link& l) {
    assert(l.list == _id);
    if (l.prev) l.prev->next = l.next; else _head = l.next;
    if (l.next) l.next->prev = l.prev; else _tail = l.prev;
    l.prev = l.next = nullptr;
    l.list = 0;
    --_size;
  }

  // The first element whose deadline has passed, unlinked; nullptr when none is due.
  timer_link* pop_expired(std::int64_t now_ms) {
    if (_head == nullptr || _head->deadline_ms > now_ms) return nullptr;
    timer_link* l = _head;
    remove(*l);
    return l;
  }

  std::uint8_t id() const { return _id; }
  std::size_t size() const { return _size; }

 private:
  std::uint8_t _id;
  std::int64_t _duration_ms;
  timer_link* _head = nullptr;
  timer_link* _tail = nullptr;
  std::size_t _size = 0;
};

}  // namespace warrant::net
