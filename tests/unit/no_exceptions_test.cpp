// This file is compiled with -fno-exceptions: the library must not need them.
#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

namespace {

int use_library_without_exceptions() {
    auto ev = kvmxx::EventFd::create();
    if (!ev) return -1;
    if (!ev->signal(2)) return -2;
    auto v = ev->wait();
    return v ? static_cast<int>(*v) : -3;
}

TEST(NoExceptions, LibraryWorksInANoExceptionsTranslationUnit) {
#if defined(__cpp_exceptions)
    FAIL() << "this file must be compiled with -fno-exceptions";
#endif
    EXPECT_EQ(use_library_without_exceptions(), 2);
}

}  // namespace
