#include "common/counting_allocator.h"

#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<size_t> g_new_calls{0};
std::atomic<size_t> g_openssl_allocs{0};
std::atomic<bool> g_one_thread{false};
std::atomic<std::thread::id> g_thread{};

bool Counted() {
  return !g_one_thread.load(std::memory_order_relaxed) ||
         std::this_thread::get_id() == g_thread.load(std::memory_order_relaxed);
}

void* CountedAlloc(size_t size) {
  if (Counted()) g_new_calls.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* CountedAllocNoThrow(size_t size) noexcept {
  if (Counted()) g_new_calls.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

void* OpensslMalloc(size_t size, const char* /*file*/, int /*line*/) {
  if (Counted()) g_openssl_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size);
}
void* OpensslRealloc(void* p, size_t size, const char* /*file*/, int /*line*/) {
  if (Counted()) g_openssl_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, size);
}
void OpensslFree(void* p, const char* /*file*/, int /*line*/) { std::free(p); }

// CRYPTO_set_mem_functions refuses once OpenSSL has allocated anything.
const bool g_openssl_hooked =
    CRYPTO_set_mem_functions(OpensslMalloc, OpensslRealloc, OpensslFree) == 1;

}  // namespace

// Every non-aligned form is replaced so new/delete stay paired (also under ASan).
void* operator new(size_t size) { return CountedAlloc(size); }
void* operator new[](size_t size) { return CountedAlloc(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  return CountedAllocNoThrow(size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return CountedAllocNoThrow(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace aegis::alloc_count {

size_t NewCalls() { return g_new_calls.load(); }
size_t OpensslAllocs() { return g_openssl_allocs.load(); }
bool OpensslHooked() { return g_openssl_hooked; }

void ResetAllocationCounts() {
  g_new_calls.store(0);
  g_openssl_allocs.store(0);
}

void CountOnlyThread(std::thread::id id) {
  g_thread.store(id);
  g_one_thread.store(true);
}

void CountEveryThread() { g_one_thread.store(false); }

}  // namespace aegis::alloc_count
