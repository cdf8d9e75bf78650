// kvmxx/config.hpp — build-mode selection shared by every kvmxx header.
//
// kvmxx returns errors as values through `Result<T>` = `expected<T, Error>`.
// When the standard library ships a complete `std::expected` (P2505 monadic
// members, `__cpp_lib_expected >= 202211L`) we use it; otherwise a bundled
// implementation of the same interface (kvmxx/expected.hpp).
//
// The choice is made once, here, by KVMXX_USE_STD_EXPECTED, and it names the
// inline namespace every declaration lives in. Two translation units built in
// different modes therefore mangle `kvmxx::Vm::create_vcpu` differently, and
// mixing them fails at link time instead of corrupting memory at run time.
#pragma once

#if __cplusplus < 202002L
#  error "kvmxx needs C++20 or later: compile with -std=c++20 (or -std=c++23)"
#endif

#include <version>

#ifndef KVMXX_USE_STD_EXPECTED
#  if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202211L
#    define KVMXX_USE_STD_EXPECTED 1
#  else
#    define KVMXX_USE_STD_EXPECTED 0
#  endif
#endif

#if KVMXX_USE_STD_EXPECTED
#  define KVMXX_ABI_NAMESPACE v1_std_expected
#else
#  define KVMXX_ABI_NAMESPACE v1_bundled_expected
#endif

#define KVMXX_BEGIN_NAMESPACE \
    namespace kvmxx {         \
    inline namespace KVMXX_ABI_NAMESPACE {
#define KVMXX_END_NAMESPACE \
    }                       \
    }

#if defined(__aarch64__)
#  define KVMXX_ARCH_ARM64 1
#else
#  define KVMXX_ARCH_ARM64 0
#endif
#if defined(__x86_64__)
#  define KVMXX_ARCH_X86_64 1
#else
#  define KVMXX_ARCH_X86_64 0
#endif
