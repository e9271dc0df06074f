// Counting allocator for the "no allocation per packet" tests. A test binary
// that links counting_allocator.cc has every non-aligned global operator new
// and delete replaced, and OpenSSL's allocator routed through the same
// counters (installed during static initialisation, before OpenSSL's first
// allocation). Counting can be limited to one thread, e.g. a media worker's.
// Thread-safe.
#pragma once

#include <cstddef>
#include <thread>

namespace aegis::alloc_count {

size_t NewCalls();       // operator new calls counted since the last reset
size_t OpensslAllocs();  // CRYPTO_malloc/realloc calls counted since the last reset
bool OpensslHooked();    // false: OpenSSL allocated before the hook (counts are useless)
void ResetAllocationCounts();
// Counts only allocations made on `id` from now on; default: every thread.
void CountOnlyThread(std::thread::id id);
void CountEveryThread();

}  // namespace aegis::alloc_count
