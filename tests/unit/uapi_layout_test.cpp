// The variable-length ioctl arguments must be laid out as the kernel (built as C)
// reads them, whatever C++ makes of the UAPI headers' __DECLARE_FLEX_ARRAY
// (see kvmxx/uapi.hpp). A regression here is an EINVAL from the real kernel.
#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

#include <cstring>

namespace {

TEST(UapiLayout, RoutingEntriesStartRightAfterTheEightByteHeader) {
    kvmxx::IrqRoute route;
    route.add_irqchip(7, 0, 3);
    auto table = route.prepare(false);
    const auto* bytes = static_cast<const std::uint8_t*>(table.arg());
    std::uint32_t nr = 0, gsi = 0;
    std::memcpy(&nr, bytes, 4);
    std::memcpy(&gsi, bytes + 8, 4);  // kvm_irq_routing_entry.gsi, in C at offset 8
    EXPECT_EQ(nr, 1u);
    EXPECT_EQ(gsi, 7u);
    EXPECT_EQ(static_cast<const void*>(table.entries().data()), bytes + 8);
}

TEST(UapiLayout, FlexArgPlacesEntriesAfterTheHead) {
    kvmxx::uapi::FlexArg<kvmxx::uapi::RegListHead, std::uint64_t> list(3);
    list.head().n = 3;
    list.entries(3)[2] = 0xabc;
    const auto* words = static_cast<const std::uint64_t*>(list.arg());
    EXPECT_EQ(words[0], 3u);
    EXPECT_EQ(words[3], 0xabcu);
}

TEST(UapiLayout, FlexArgRoundsItsBufferUpToWholeWords) {
    // kvm_msr_list is a __u32 count and __u32 indices[]: 4 + 4 n bytes, e.g. 12 for n = 2,
    // which is not a whole number of the 8-byte words the buffer is made of.
    struct CountHead {
        __u32 n;
    };
    for (std::size_t n : {1u, 2u, 3u, 4u}) {
        kvmxx::uapi::FlexArg<CountHead, std::uint32_t> list(n);
        list.head().n = static_cast<__u32>(n);
        for (std::size_t i = 0; i < n; ++i) list.entries(n)[i] = static_cast<std::uint32_t>(0x100 + i);
        const auto* bytes = static_cast<const std::uint8_t*>(list.arg());
        std::uint32_t last = 0;
        std::memcpy(&last, bytes + 4 + 4 * (n - 1), 4);
        EXPECT_EQ(last, 0x100u + n - 1) << n << " entries";
    }
}

#if KVMXX_ARCH_X86_64
TEST(UapiLayout, CpuidTableIsAKvmCpuid2AsCSeesIt) {
    kvmxx::CpuidTable table(4);
    EXPECT_EQ(table.size(), 4u);
    table.entries()[1].function = 0x8000'0000;
    const auto* bytes = static_cast<const std::uint8_t*>(table.arg());
    std::uint32_t function = 0;
    std::memcpy(&function, bytes + 8 + sizeof(kvm_cpuid_entry2), 4);
    EXPECT_EQ(function, 0x8000'0000u);
    EXPECT_NE(table.find(0x8000'0000), nullptr);
    EXPECT_EQ(table.find(0x4000'0000), nullptr);
}
#endif

}  // namespace
