// Compiled by tests/unit/nodiscard_check.cmake, which expects the compiler to
// refuse it: an ignored Result is a dropped error, and Result is [[nodiscard]].
#include <kvmxx/kvmxx.hpp>

int main() {
#ifdef KVMXX_IGNORE_A_RESULT
    kvmxx::Kvm::open();  // the error, if any, is dropped: must not compile with -Werror
#else
    (void)kvmxx::Kvm::open();  // saying so explicitly is fine
#endif
}
