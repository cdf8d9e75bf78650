// Uses kvmxx the way a downstream project does; prints what it found and
// exits 0 only when the error path reported what it should.
#include <kvmxx/kvmxx.hpp>

#include <cstdio>
#include <cstring>

int main() {
    auto missing = kvmxx::Kvm::open("/nonexistent/kvm");
    if (missing || missing.error().errnum() != ENOENT) {
        std::puts("consumer: expected ENOENT from Kvm::open on a missing path");
        return 1;
    }
    auto ev = kvmxx::EventFd::create();
    if (!ev || !ev->signal(3) || *ev->wait() != 3) {
        std::puts("consumer: EventFd round trip failed");
        return 1;
    }
    std::printf("consumer: ok (%s expected, C++%ld)\n", KVMXX_USE_STD_EXPECTED ? "std" : "bundled",
                __cplusplus / 100 % 100);
    return 0;
}
