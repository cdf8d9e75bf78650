// decode_exit on kvm_run pages the test fills in, as the kernel would.
#include <kvmxx/exit.hpp>
#include <kvmxx/uapi.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

struct RunPage {
    static constexpr std::size_t size = 4096;
    alignas(kvm_run) unsigned char bytes[size]{};
    kvm_run& run() { return *reinterpret_cast<kvm_run*>(bytes); }
};

TEST(ExitDecode, MmioWriteCarriesAddressAndLittleEndianData) {
    RunPage p;
    p.run().exit_reason = KVM_EXIT_MMIO;
    p.run().mmio.phys_addr = 0x0900'0000;
    p.run().mmio.len = 4;
    p.run().mmio.is_write = 1;
    const unsigned char data[4] = {0x78, 0x56, 0x34, 0x12};
    std::memcpy(p.run().mmio.data, data, 4);
    auto exit = kvmxx::decode_exit(p.run(), p.size);
    auto* w = std::get_if<kvmxx::exit::MmioWrite>(&exit);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->address, 0x0900'0000u);
    EXPECT_EQ(w->data.size(), 4u);
    EXPECT_EQ(w->value(), 0x12345678u);
}

TEST(ExitDecode, MmioReadAnswerIsWrittenIntoKvmRun) {
    RunPage p;
    p.run().exit_reason = KVM_EXIT_MMIO;
    p.run().mmio.phys_addr = 0x1000;
    p.run().mmio.len = 2;
    p.run().mmio.is_write = 0;
    auto exit = kvmxx::decode_exit(p.run(), p.size);
    auto* r = std::get_if<kvmxx::exit::MmioRead>(&exit);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->data.data(), p.run().mmio.data);  // no copy: the span is kvm_run itself
    r->set(0xbeef'cafe);
    EXPECT_EQ(p.run().mmio.data[0], 0xfe);
    EXPECT_EQ(p.run().mmio.data[1], 0xca);
    EXPECT_EQ(p.run().mmio.data[2], 0x00);  // only len bytes are written
}

TEST(ExitDecode, MmioOfEightBytesFillsTheWholeDataArray) {
    // A 64-bit access (ldr x0 / mov rax) is the largest MMIO exit: len 8, all of mmio.data.
    RunPage p;
    p.run().exit_reason = KVM_EXIT_MMIO;
    p.run().mmio.phys_addr = 0x0a00'0008;
    p.run().mmio.len = 8;
    p.run().mmio.is_write = 1;
    const unsigned char data[8] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
    std::memcpy(p.run().mmio.data, data, 8);
    auto exit = kvmxx::decode_exit(p.run(), p.size);
    auto* w = std::get_if<kvmxx::exit::MmioWrite>(&exit);
    ASSERT_NE(w, nullptr) << "a len-8 MMIO write must decode, not become Unknown";
    EXPECT_EQ(w->data.size(), 8u);
    EXPECT_EQ(w->value(), 0x0102'0304'0506'0708ULL);
}

TEST(ExitDecode, MmioWithImpossibleLengthIsUnknown) {
    RunPage p;
    p.run().exit_reason = KVM_EXIT_MMIO;
    p.run().mmio.len = 9;
    EXPECT_TRUE(std::holds_alternative<kvmxx::exit::Unknown>(kvmxx::decode_exit(p.run(), p.size)));
}

TEST(ExitDecode, PortIoOutAndInUseDataOffset) {
    RunPage p;
    p.run().exit_reason = KVM_EXIT_IO;
    p.run().io.direction = KVM_EXIT_IO_OUT;
    p.run().io.size = 1;
    p.run().io.port = 0x3f8;
    p.run().io.count = 1;
    p.run().io.data_offset = 1024;
    p.bytes[1024] = 'A';
    auto out = kvmxx::decode_exit(p.run(), p.size);
    auto* o = std::get_if<kvmxx::exit::IoOut>(&out);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->port, 0x3f8);
    EXPECT_EQ(o->value(), 'A');

    p.run().io.direction = KVM_EXIT_IO_IN;
    p.run().io.size = 2;
    auto in = kvmxx::decode_exit(p.run(), p.size);
    auto* i = std::get_if<kvmxx::exit::IoIn>(&in);
    ASSERT_NE(i, nullptr);
    i->set(0x1234);
    EXPECT_EQ(p.bytes[1024], 0x34);
    EXPECT_EQ(p.bytes[1025], 0x12);
}

TEST(ExitDecode, PortIoDataOutsideTheMappingIsUnknownNotAnOverflow) {
    RunPage p;
    p.run().exit_reason = KVM_EXIT_IO;
    p.run().io.size = 4;
    p.run().io.count = 2;
    p.run().io.data_offset = p.size - 4;  // 8 bytes would run past the page
    EXPECT_TRUE(std::holds_alternative<kvmxx::exit::Unknown>(kvmxx::decode_exit(p.run(), p.size)));
    p.run().io.data_offset = ~0ULL;
    EXPECT_TRUE(std::holds_alternative<kvmxx::exit::Unknown>(kvmxx::decode_exit(p.run(), p.size)));
}

TEST(ExitDecode, SystemEventShutdownAndReset) {
    RunPage p;
    p.run().exit_reason = KVM_EXIT_SYSTEM_EVENT;
    p.run().system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
    p.run().system_event.ndata = 2;
    p.run().system_event.data[1] = 99;
    auto e = kvmxx::decode_exit(p.run(), p.size);
    auto* s = std::get_if<kvmxx::exit::SystemEvent>(&e);
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->is_shutdown());
    EXPECT_EQ(s->data.size(), 2u);
    EXPECT_EQ(s->data[1], 99u);
    p.run().system_event.type = KVM_SYSTEM_EVENT_RESET;
    p.run().system_event.ndata = 0;  // older kernels: only the flags word
    auto r = kvmxx::decode_exit(p.run(), p.size);
    EXPECT_TRUE(std::get<kvmxx::exit::SystemEvent>(r).is_reset());
    EXPECT_EQ(std::get<kvmxx::exit::SystemEvent>(r).data.size(), 1u);
}

TEST(ExitDecode, SimpleAndErrorExits) {
    RunPage p;
    p.run().exit_reason = KVM_EXIT_HLT;
    EXPECT_TRUE(std::holds_alternative<kvmxx::exit::Hlt>(kvmxx::decode_exit(p.run(), p.size)));
    p.run().exit_reason = KVM_EXIT_SHUTDOWN;
    EXPECT_TRUE(std::holds_alternative<kvmxx::exit::Shutdown>(kvmxx::decode_exit(p.run(), p.size)));
    p.run().exit_reason = KVM_EXIT_INTR;
    EXPECT_TRUE(std::holds_alternative<kvmxx::exit::Interrupted>(kvmxx::decode_exit(p.run(), p.size)));
    p.run().exit_reason = KVM_EXIT_DIRTY_RING_FULL;
    auto full = kvmxx::decode_exit(p.run(), p.size);
    EXPECT_TRUE(std::holds_alternative<kvmxx::exit::DirtyRingFull>(full));
    EXPECT_EQ(kvmxx::exit_reason(full), static_cast<std::uint32_t>(KVM_EXIT_DIRTY_RING_FULL));
    p.run().exit_reason = KVM_EXIT_INTERNAL_ERROR;
    p.run().internal.suberror = 3;
    p.run().internal.ndata = 200;  // clamped to the 16 words that exist
    auto ie = kvmxx::decode_exit(p.run(), p.size);
    EXPECT_EQ(std::get<kvmxx::exit::InternalError>(ie).suberror, 3u);
    EXPECT_EQ(std::get<kvmxx::exit::InternalError>(ie).data.size(), 16u);
    p.run().exit_reason = KVM_EXIT_FAIL_ENTRY;
    p.run().fail_entry.hardware_entry_failure_reason = 0x21;
    p.run().fail_entry.cpu = 1;
    auto fe = kvmxx::decode_exit(p.run(), p.size);
    EXPECT_EQ(std::get<kvmxx::exit::FailEntry>(fe).reason, 0x21u);
}

// api.rst "KVM_EXIT_MEMORY_FAULT": flags, gpa and size at the start of kvm_run's exit union.
TEST(ExitDecode, MemoryFaultCarriesFlagsGpaAndSizeAndSaysPrivate) {
    RunPage p;
    p.run().exit_reason = kvmxx::uapi::exit_memory_fault;
    const std::uint64_t words[3] = {kvmxx::uapi::memory_exit_flag_private, 0x5000'5000, 0x1000};
    std::memcpy(reinterpret_cast<std::uint8_t*>(&p.run().mmio), words, sizeof words);
    auto e = kvmxx::decode_exit(p.run(), p.size);
    ASSERT_TRUE(std::holds_alternative<kvmxx::exit::MemoryFault>(e));
    const auto& f = std::get<kvmxx::exit::MemoryFault>(e);
    EXPECT_EQ(f.gpa, 0x5000'5000u);
    EXPECT_EQ(f.size, 0x1000u);
    EXPECT_TRUE(f.is_private());
    EXPECT_EQ(kvmxx::exit_reason(e), 39u);
    EXPECT_EQ(kvmxx::describe(e), "exit=KVM_EXIT_MEMORY_FAULT gpa=0x50005000 size=0x1000 flags=0x8 access=private");
    EXPECT_FALSE((kvmxx::exit::MemoryFault{0, 0, 0x1000}.is_private()));
}

TEST(ExitDecode, InternalErrorNdataJustAboveSixteenIsClampedToTheSixteenWords) {
    // struct kvm_run's internal.data is __u64 data[16]; any larger ndata is the kernel's bug
    // or a hostile page, and must not widen the span past the array.
    static_assert(sizeof(kvm_run{}.internal.data) == 16 * sizeof(__u64));
    RunPage p;
    p.run().exit_reason = KVM_EXIT_INTERNAL_ERROR;
    p.run().internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
    for (std::uint32_t ndata : {17u, 32u, 64u}) {
        p.run().internal.ndata = ndata;
        auto e = kvmxx::decode_exit(p.run(), p.size);
        EXPECT_EQ(std::get<kvmxx::exit::InternalError>(e).data.size(), 16u) << "ndata=" << ndata;
    }
    p.run().internal.ndata = 16;
    EXPECT_EQ(std::get<kvmxx::exit::InternalError>(kvmxx::decode_exit(p.run(), p.size)).data.size(), 16u);
}

TEST(ExitDecode, UnknownExitKeepsTheRawReason) {
    RunPage p;
    p.run().exit_reason = 4242;
    auto e = kvmxx::decode_exit(p.run(), p.size);
    ASSERT_TRUE(std::holds_alternative<kvmxx::exit::Unknown>(e));
    EXPECT_EQ(std::get<kvmxx::exit::Unknown>(e).reason, 4242u);
    EXPECT_STREQ(kvmxx::exit_reason_name(KVM_EXIT_MMIO), "KVM_EXIT_MMIO");
    EXPECT_STREQ(kvmxx::exit_reason_name(4242), "KVM_EXIT_?");
}

TEST(ExitDescribe, EveryKindIsOneLineOfWordsNamingTheExit) {
    RunPage p;
    p.run().exit_reason = KVM_EXIT_MMIO;
    p.run().mmio.phys_addr = 0xa000000;
    p.run().mmio.len = 4;
    p.run().mmio.is_write = 1;
    p.run().mmio.data[0] = 0x42;
    EXPECT_EQ(kvmxx::describe(kvmxx::decode_exit(p.run(), p.size)),
              "exit=KVM_EXIT_MMIO dir=write addr=0xa000000 len=4 data=0x42");
    EXPECT_EQ(kvmxx::describe(kvmxx::exit::Hlt{}), "exit=KVM_EXIT_HLT");
    EXPECT_EQ(kvmxx::describe(kvmxx::exit::Shutdown{}), "exit=KVM_EXIT_SHUTDOWN");
    EXPECT_EQ(kvmxx::describe(kvmxx::exit::Interrupted{}), "exit=KVM_EXIT_INTR");
    EXPECT_EQ(kvmxx::describe(kvmxx::exit::DirtyRingFull{}), "exit=KVM_EXIT_DIRTY_RING_FULL");
    EXPECT_EQ(kvmxx::describe(kvmxx::exit::Unknown{KVM_EXIT_DEBUG}), "exit=KVM_EXIT_DEBUG reason=4");
    EXPECT_EQ(kvmxx::describe(kvmxx::exit::Unknown{999}), "exit=KVM_EXIT_? reason=999");
}

TEST(ExitDescribe, InternalErrorNamesTheSuberrorAndShowsTheKernelsWords) {
    RunPage p;
    p.run().exit_reason = KVM_EXIT_INTERNAL_ERROR;
    p.run().internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
    p.run().internal.ndata = 2;
    p.run().internal.data[0] = 0x10;
    p.run().internal.data[1] = 0x6;
    const std::string line = kvmxx::describe(kvmxx::decode_exit(p.run(), p.size));
    EXPECT_EQ(line.find("exit=KVM_EXIT_INTERNAL_ERROR suberror=1 what=\"emulation failed"), 0u) << line;
    EXPECT_NE(line.find("data=0x10,0x6"), std::string::npos) << line;
    p.run().internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
    p.run().internal.ndata = 0;
    const std::string delivery = kvmxx::describe(kvmxx::decode_exit(p.run(), p.size));
    EXPECT_NE(delivery.find("while delivering an event"), std::string::npos) << delivery;
    EXPECT_EQ(delivery.find("data="), std::string::npos) << "no words, no data field";
}

TEST(ExitDescribe, FailEntryNamesTheVendorsReason) {
    const std::string vmx = kvmxx::describe(kvmxx::exit::FailEntry{0x80000021, 1});
    EXPECT_NE(vmx.find("exit=KVM_EXIT_FAIL_ENTRY reason=0x80000021"), std::string::npos) << vmx;
    EXPECT_NE(vmx.find("invalid guest state"), std::string::npos) << vmx;
    EXPECT_NE(vmx.find("cpu=1"), std::string::npos) << vmx;
    const std::string svm = kvmxx::describe(kvmxx::exit::FailEntry{~0ull, 0});
    EXPECT_NE(svm.find("SVM_EXIT_ERR"), std::string::npos) << svm;
    EXPECT_NE(kvmxx::describe(kvmxx::exit::FailEntry{7, 0}).find("unknown to kvmxx"), std::string::npos);
}

TEST(ExitDecode, APortIoExitWithNoItemsHasNoValueInsteadOfReadingPastItsData) {
    // KVM never sends count 0, but the page is untrusted: the value of an empty
    // exit is 0, not a read of `size` bytes from an empty span.
    const kvmxx::exit::IoOut out{0x3f8, 4, 0, {}};
    EXPECT_EQ(out.value(), 0u);
    EXPECT_NE(kvmxx::describe(kvmxx::Exit{out}).find("port=0x3f8"), std::string::npos);
}

}  // namespace
