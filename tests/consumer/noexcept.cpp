// Compiled with -fno-exceptions: every kvmxx header must accept that.
#include <kvmxx/kvmxx.hpp>

int consumer_noexcept_probe() {
    auto ev = kvmxx::EventFd::create();
    return ev ? 0 : ev.error().errnum();
}
