// Unit tests (no KVM): the pure parts of the x86_64 vCPU state wrappers — the
// MSR batch's C layout and bookkeeping, the XSAVE image's offsets, LAPIC register
// access, and the flat GDT and identity-mapped page tables the mode helpers build.
#include <kvmxx/config.hpp>

#include <gtest/gtest.h>

#if KVMXX_ARCH_X86_64
#include <kvmxx/x86/cpuid.hpp>
#include <kvmxx/x86/modes.hpp>
#include <kvmxx/x86/vcpu_state.hpp>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

std::uint32_t u32_at(const void* base, std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, static_cast<const std::uint8_t*>(base) + off, 4);
    return v;
}
std::uint64_t u64_at(const void* base, std::size_t off) {
    std::uint64_t v;
    std::memcpy(&v, static_cast<const std::uint8_t*>(base) + off, 8);
    return v;
}

TEST(X86MsrBatch, EntriesFollowTheEightByteHeadAsInC) {
    kvmxx::MsrBatch b{0x174, 0x175, 0x176};
    b.set(0x175, 0x1234'5678'9abc'def0ULL);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(u32_at(b.arg(), 0), 3u) << "nmsrs";
    EXPECT_EQ(u32_at(b.arg(), 4), 0u) << "pad";
    // each kvm_msr_entry is 16 bytes: index, reserved, data
    for (unsigned i = 0; i < 3; ++i) EXPECT_EQ(u32_at(b.arg(), 8 + 16 * i), 0x174u + i);
    EXPECT_EQ(u64_at(b.arg(), 8 + 16 + 8), 0x1234'5678'9abc'def0ULL);
    EXPECT_EQ(static_cast<const void*>(b.entries().data()), static_cast<const std::uint8_t*>(b.arg()) + 8);
}

TEST(X86MsrBatch, SetAppendsUnknownIndicesAndKeepsTheOthers) {
    kvmxx::MsrBatch b;
    EXPECT_EQ(b.size(), 0u);
    b.set(0x10, 1).set(0x174, 2).set(0x10, 3);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b.entries()[0].index, 0x10u);
    EXPECT_EQ(b.entries()[0].data, 3u);
    EXPECT_EQ(b.entries()[1].index, 0x174u);
    EXPECT_EQ(b.entries()[1].data, 2u);
    EXPECT_EQ(u32_at(b.arg(), 0), 2u);
}

TEST(X86MsrBatch, ProcessedDecidesWhichValuesCountAndWhichIndexWasRefused) {
    kvmxx::MsrBatch b{0x174, 0x4000'7777, 0x176};
    b.set_processed(1);
    EXPECT_TRUE(b.value(0x174).has_value());
    EXPECT_FALSE(b.value(0x176).has_value()) << "the kernel stopped before it";
    ASSERT_TRUE(b.refused().has_value());
    EXPECT_EQ(*b.refused(), 0x4000'7777u);
    b.set_processed(3);
    EXPECT_FALSE(b.refused().has_value());
    EXPECT_FALSE(b.value(0x999).has_value());
}

TEST(X86XsaveArea, LegacyOffsetsAndHeader) {
    kvmxx::XsaveArea a;
    EXPECT_EQ(a.size(), 4096u);
    EXPECT_EQ(kvmxx::XsaveArea(100).size(), 4096u) << "never smaller than struct kvm_xsave";
    EXPECT_EQ(kvmxx::XsaveArea(8192).size(), 8192u);
    a.xmm(2)[0] = 0xaa;
    a.xmm(15)[15] = 0xbb;
    a.set_mxcsr(0x1f80);
    a.set_xstate_bv(0x7);
    const auto* p = static_cast<const std::uint8_t*>(a.arg());
    EXPECT_EQ(p[160 + 32], 0xaa);
    EXPECT_EQ(p[160 + 16 * 15 + 15], 0xbb);
    EXPECT_EQ(u32_at(p, 24), 0x1f80u);
    EXPECT_EQ(u64_at(p, 512), 0x7u);
    EXPECT_EQ(a.mxcsr(), 0x1f80u);
    EXPECT_EQ(a.xstate_bv(), 0x7u);
}

TEST(X86Lapic, RegistersAreLittleEndianWordsAtTheirMmioOffsets) {
    kvm_lapic_state s{};
    kvmxx::lapic::set(s, kvmxx::lapic::tpr, 0x50);
    EXPECT_EQ(static_cast<unsigned char>(s.regs[0x80]), 0x50);
    s.regs[0x23] = 0x03;  // APIC ID 3 in bits 24..31
    EXPECT_EQ(kvmxx::lapic::get(s, kvmxx::lapic::id) >> 24, 3u);
}

TEST(X86Cpuid, FindTellsSubleavesOfAnIndexedLeafApart) {
    // CPUID leaf 7 (structured extended features) is indexed by ECX: subleaf 0 and 1 differ.
    kvmxx::CpuidTable table(3);
    table.entries()[0] = kvm_cpuid_entry2{.function = 7, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
                                          .eax = 1, .ebx = 0xaa, .ecx = 0, .edx = 0, .padding = {}};
    table.entries()[1] = kvm_cpuid_entry2{.function = 7, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
                                          .eax = 0xbb, .ebx = 0, .ecx = 0, .edx = 0, .padding = {}};
    table.entries()[2] = kvm_cpuid_entry2{.function = 0, .index = 0, .flags = 0,
                                          .eax = 7, .ebx = 0, .ecx = 0, .edx = 0, .padding = {}};
    auto* sub1 = table.find(7, 1);
    ASSERT_NE(sub1, nullptr);
    EXPECT_EQ(sub1->eax, 0xbbu);
    ASSERT_NE(table.find(7), nullptr);
    EXPECT_EQ(table.find(7)->ebx, 0xaau);
    EXPECT_EQ(table.find(7, 2), nullptr);
    EXPECT_EQ(table.find(0, 1), nullptr);
}

TEST(X86Modes, FlatDescriptorsAreTheTextbookOnes) {
    EXPECT_EQ(kvmxx::x86::flat_descriptor(0xb, false, true), 0x00cf'9b00'0000'ffffULL);  // code32
    EXPECT_EQ(kvmxx::x86::flat_descriptor(0x3, false, true), 0x00cf'9300'0000'ffffULL);  // data
    EXPECT_EQ(kvmxx::x86::flat_descriptor(0xb, true, false), 0x00af'9b00'0000'ffffULL);  // code64
    std::uint8_t gdt[kvmxx::x86::gdt_bytes];
    std::memset(gdt, 0xff, sizeof gdt);
    kvmxx::x86::write_flat_gdt(gdt);
    EXPECT_EQ(u64_at(gdt, 0), 0u);
    EXPECT_EQ(u64_at(gdt, kvmxx::x86::code32_selector), 0x00cf'9b00'0000'ffffULL);
    EXPECT_EQ(u64_at(gdt, kvmxx::x86::data_selector), 0x00cf'9300'0000'ffffULL);
    EXPECT_EQ(u64_at(gdt, kvmxx::x86::code64_selector), 0x00af'9b00'0000'ffffULL);
}

TEST(X86Modes, IdentityMapOfFourGibUsesFourPdsOfTwoMibPages) {
    using namespace kvmxx::x86;
    constexpr std::uint64_t gpa = 0x5000, bytes = 4ull << 30;
    ASSERT_EQ(identity_map_pages(bytes), 6u);
    EXPECT_EQ(long_mode_table_bytes(bytes), 7u * 4096);
    std::vector<std::uint8_t> t(6 * 4096, 0xee);
    auto cr3 = build_identity_map(t, gpa, bytes);
    ASSERT_TRUE(cr3) << cr3.error().message();
    EXPECT_EQ(*cr3, gpa);
    EXPECT_EQ(u64_at(t.data(), 0), (gpa + 0x1000) | 3) << "PML4[0] -> PDPT, present + writable";
    EXPECT_EQ(u64_at(t.data(), 8), 0u) << "PML4[1] not present";
    for (unsigned p = 0; p < 4; ++p)
        EXPECT_EQ(u64_at(t.data(), 0x1000 + 8 * p), (gpa + 0x2000 + 0x1000 * p) | 3) << "PDPT[" << p << "]";
    EXPECT_EQ(u64_at(t.data(), 0x1000 + 8 * 4), 0u);
    EXPECT_EQ(u64_at(t.data(), 0x2000), 0x83u) << "PD0[0]: 2 MiB page at 0, present, writable, PS";
    EXPECT_EQ(u64_at(t.data(), 0x2000 + 8 * 0x50), 0x0a00'0000u | 0x83) << "the report window, 0x0a000000";
    EXPECT_EQ(u64_at(t.data(), 0x2000 + 0x1000 * 3 + 8 * 511), 0xffe0'0000u | 0x83) << "the last 2 MiB below 4 GiB";
}

TEST(X86Modes, APartialMapStopsAtItsEndAndBadArgumentsAreErrors) {
    using namespace kvmxx::x86;
    std::vector<std::uint8_t> t(3 * 4096, 0xee);
    ASSERT_TRUE(build_identity_map(t, 0, 3 << 20));  // 3 MiB: two 2 MiB pages
    EXPECT_EQ(u64_at(t.data(), 0x2000), 0x83u);
    EXPECT_EQ(u64_at(t.data(), 0x2008), 0x20'0000u | 0x83);
    EXPECT_EQ(u64_at(t.data(), 0x2010), 0u);
    auto unaligned = build_identity_map(t, 0x1234, 1 << 20);
    ASSERT_FALSE(unaligned);
    EXPECT_EQ(unaligned.error().errnum(), EINVAL);
    auto small = build_identity_map(t, 0, 2ull << 30);  // needs 4 pages
    ASSERT_FALSE(small);
    EXPECT_EQ(small.error().errnum(), ENOSPC);
    EXPECT_FALSE(build_identity_map(t, 0, 0));
    EXPECT_FALSE(build_identity_map(t, 0, 513ull << 30));
}

}  // namespace
#endif
