// Public functions that no other test called (tests/api-coverage --check), where a
// host can test them: each expectation comes from the KVM or VFIO UAPI (linux/kvm.h,
// linux/vfio.h, Documentation/virt/kvm/api.rst), a hardware manual, POSIX, the C++
// standard, or the function's documented contract; none is read off the code under test.
#include <kvmxx/arm64/regs.hpp>
#include <kvmxx/device.hpp>
#include <kvmxx/error.hpp>
#include <kvmxx/exit.hpp>
#include <kvmxx/expected.hpp>
#include <kvmxx/irq_route.hpp>
#include <kvmxx/kvm.hpp>
#include <kvmxx/mapping.hpp>
#include <kvmxx/trace.hpp>
#include <kvmxx/uapi.hpp>
#include <kvmxx/unique_fd.hpp>
#include <kvmxx/vcpu.hpp>
#include <kvmxx/vfio/cap_chain.hpp>
#include <kvmxx/vfio/container.hpp>
#include <kvmxx/vfio/device.hpp>
#include <kvmxx/vfio/group.hpp>
#include <kvmxx/vfio/kvm_vfio.hpp>
#include <kvmxx/vm.hpp>
#include <kvmxx/x86/cpuid.hpp>
#include <kvmxx/x86/vcpu_state.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

/// A fresh descriptor for an owner to adopt (an eventfd: any fd will do).
int new_fd() { return ::eventfd(0, EFD_CLOEXEC); }

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// ---- registers ------------------------------------------------------------

TEST(Arm64CoreId, IsTheApiRstEncodingOfACoreRegister) {
    // api.rst, "ARM64 core registers": 0x60x0 0000 0010 <index into kvm_regs, in 32-bit words>,
    // x = 2, 3, 4 for 32, 64, 128 bits; its table lists PC, V0 and FPSR with these ids.
    EXPECT_EQ(kvmxx::arm64::encoding::core_id(0x40, 8), 0x6030'0000'0010'0040ULL);  // PC, regs.pc
    EXPECT_EQ(kvmxx::arm64::encoding::core_id(0x54, 16), 0x6040'0000'0010'0054ULL);  // V0, fp_regs.vregs[0]
    EXPECT_EQ(kvmxx::arm64::encoding::core_id(0xd4, 4), 0x6020'0000'0010'00d4ULL);  // FPSR, fp_regs.fpsr
}

TEST(VcpuSetOneReg, ABufferOfAnotherSizeThanTheIdSaysIsRefusedBeforeTheIoctl) {
    auto page = kvmxx::Mapping::anonymous(4096);
    ASSERT_TRUE(page);
    kvmxx::Vcpu cpu(kvmxx::UniqueFd(-1), 0, std::move(*page));
    const std::uint64_t pc = kvmxx::arm64::reg::pc.id;  // a U64 id (KVM_REG_SIZE_U64): 8 bytes
    const std::uint32_t four = 0;
    auto short_buffer = cpu.set_one_reg(pc, {reinterpret_cast<const std::uint8_t*>(&four), sizeof four});
    ASSERT_FALSE(short_buffer);
    EXPECT_EQ(short_buffer.error().errnum(), EINVAL);
    EXPECT_STREQ(short_buffer.error().operation(), "KVM_SET_ONE_REG");
    // The right size goes to the kernel, which says what ioctl(2) says of a closed descriptor.
    const std::uint64_t eight = 0;
    auto right_size = cpu.set_one_reg(pc, {reinterpret_cast<const std::uint8_t*>(&eight), sizeof eight});
    ASSERT_FALSE(right_size);
    EXPECT_EQ(right_size.error().errnum(), EBADF);
}

#if KVMXX_ARCH_ARM64
TEST(Arm64VcpuFeatures, ApplySetsTheUapiFeatureBitsOfKvmArmVcpuInit) {
    // arch/arm64/include/uapi/asm/kvm.h: POWER_OFF 0, PSCI_0_2 2, PMU_V3 3, SVE 4,
    // PTRAUTH_ADDRESS 5, PTRAUTH_GENERIC 6; all in features[0].
    kvm_vcpu_init defaults{};
    kvmxx::arm64::VcpuFeatures{}.apply(defaults);
    EXPECT_EQ(defaults.features[0], 1u << 2) << "PSCI 0.2 and nothing else by default";
    kvm_vcpu_init all{};
    kvmxx::arm64::VcpuFeatures every{.power_off = true, .psci_0_2 = true, .pmu_v3 = true, .sve = true, .ptrauth = true};
    every.apply(all);
    EXPECT_EQ(all.features[0], (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6));
    for (unsigned i = 1; i < sizeof all.features / sizeof all.features[0]; ++i) EXPECT_EQ(all.features[i], 0u);
}
#endif

// ---- exits ----------------------------------------------------------------

TEST(ExitLoadLe, TheFirstByteIsTheLeastSignificant) {
    const std::array<std::uint8_t, 4> word{0x78, 0x56, 0x34, 0x12};
    EXPECT_EQ(kvmxx::exit::load_le(word), 0x1234'5678u);
    const std::array<std::uint8_t, 8> dword{1, 0, 0, 0, 0, 0, 0, 0x80};
    EXPECT_EQ(kvmxx::exit::load_le(dword), 0x8000'0000'0000'0001ULL);
    EXPECT_EQ(kvmxx::exit::load_le({}), 0u);
}

// store_le and load_le take the fast one-access path for widths 1, 2, 4 and 8 and a
// byte loop for the others (3, 5, 6, 7: port I/O and MMIO never have them, a caller's
// span might): every width writes exactly its bytes, least significant first, and reads back.
TEST(ExitStoreLe, EveryWidthWritesExactlyItsBytesLeastSignificantFirstAndLoadsBack) {
    const std::uint64_t value = 0x8877'6655'4433'2211ULL;
    for (std::size_t width = 0; width <= 8; ++width) {
        std::array<std::uint8_t, 10> bytes;
        bytes.fill(0xee);
        kvmxx::exit::store_le(std::span(bytes).subspan(1, width), value);
        EXPECT_EQ(bytes[0], 0xee) << "width " << width;
        for (std::size_t i = 0; i < width; ++i) EXPECT_EQ(bytes[1 + i], 0x11 * (i + 1)) << "width " << width << " byte " << i;
        for (std::size_t i = 1 + width; i < bytes.size(); ++i) EXPECT_EQ(bytes[i], 0xee) << "width " << width << " past the end";
        const std::uint64_t mask = width == 8 ? ~0ULL : (1ULL << (8 * width)) - 1;
        EXPECT_EQ(kvmxx::exit::load_le(std::span<const std::uint8_t>(bytes).subspan(1, width)), value & mask) << "width " << width;
    }
}

TEST(ExitReason, EachKindIsItsKvmExitNumberAndADecodedPageGivesBackItsReason) {
    namespace ex = kvmxx::exit;
    using kvmxx::Exit;
    EXPECT_EQ(kvmxx::exit_reason(Exit{ex::MmioWrite{0, {}}}), std::uint32_t{KVM_EXIT_MMIO});
    EXPECT_EQ(kvmxx::exit_reason(Exit{ex::MmioRead{0, {}}}), std::uint32_t{KVM_EXIT_MMIO});
    EXPECT_EQ(kvmxx::exit_reason(Exit{ex::IoIn{0, 1, 1, {}}}), std::uint32_t{KVM_EXIT_IO});
    EXPECT_EQ(kvmxx::exit_reason(Exit{ex::IoOut{0, 1, 1, {}}}), std::uint32_t{KVM_EXIT_IO});
    EXPECT_EQ(kvmxx::exit_reason(Exit{ex::Hlt{}}), std::uint32_t{KVM_EXIT_HLT});
    EXPECT_EQ(kvmxx::exit_reason(Exit{ex::Shutdown{}}), std::uint32_t{KVM_EXIT_SHUTDOWN});
    EXPECT_EQ(kvmxx::exit_reason(Exit{ex::Interrupted{}}), std::uint32_t{KVM_EXIT_INTR});
    EXPECT_EQ(kvmxx::exit_reason(Exit{ex::Unknown{KVM_EXIT_DEBUG}}), std::uint32_t{KVM_EXIT_DEBUG});
    // What the kernel writes into kvm_run.exit_reason comes back out of the decoded exit.
    for (std::uint32_t reason : {KVM_EXIT_HLT, KVM_EXIT_SHUTDOWN, KVM_EXIT_INTR, KVM_EXIT_FAIL_ENTRY,
                                 KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_DEBUG}) {
        alignas(kvm_run) std::array<std::uint8_t, 4096> page{};
        auto& run = *reinterpret_cast<kvm_run*>(page.data());
        run.exit_reason = reason;
        EXPECT_EQ(kvmxx::exit_reason(kvmxx::decode_exit(run, page.size())), reason) << kvmxx::exit_reason_name(reason);
    }
}

TEST(ExitWords, InternalErrorSuberrorsAreNamedAsLinuxKvmHDescribesThem) {
    // linux/kvm.h: EMULATION "Emulate instruction failed", SIMUL_EX "unexpected simultaneous
    // exceptions", DELIVERY_EV "unexpected vm-exit due to delivery event",
    // UNEXPECTED_EXIT_REASON "unexpected vm-exit reason".
    EXPECT_TRUE(contains(kvmxx::internal_error_name(KVM_INTERNAL_ERROR_EMULATION), "emulat"));
    EXPECT_TRUE(contains(kvmxx::internal_error_name(KVM_INTERNAL_ERROR_SIMUL_EX), "simultaneous exceptions"));
    EXPECT_TRUE(contains(kvmxx::internal_error_name(KVM_INTERNAL_ERROR_DELIVERY_EV), "deliver"));
    EXPECT_TRUE(contains(kvmxx::internal_error_name(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON), "exit reason"));
    const std::string unknown = kvmxx::internal_error_name(99);
    for (std::uint32_t known : {1u, 2u, 3u, 4u}) EXPECT_NE(unknown, kvmxx::internal_error_name(known));
}

TEST(ExitWords, EntryFailuresAreNamedAfterTheBasicExitReasonsOfTheSdmAndSvmExitErr) {
    // Intel SDM vol. 3, appendix C: basic exit reason 33 "VM-entry failure due to invalid guest
    // state", 34 "... due to MSR loading", 41 "... due to machine-check event"; bits 15:0 are
    // the basic reason, bit 31 says "VM-entry failure". AMD APM vol. 2: VMEXIT_INVALID is -1.
    EXPECT_TRUE(contains(kvmxx::entry_failure_name(33), "invalid guest state"));
    EXPECT_TRUE(contains(kvmxx::entry_failure_name(34), "MSR"));
    EXPECT_TRUE(contains(kvmxx::entry_failure_name(41), "machine check"));
    EXPECT_STREQ(kvmxx::entry_failure_name(0x8000'0021), kvmxx::entry_failure_name(33));
    EXPECT_TRUE(contains(kvmxx::entry_failure_name(~std::uint64_t{0}), "SVM"));
    EXPECT_STRNE(kvmxx::entry_failure_name(0), kvmxx::entry_failure_name(33));
}

// ---- errors and expected --------------------------------------------------

TEST(FailWithHint, TheErrorCarriesExactlyTheHintGivenInsteadOfTheDefaultOne) {
    auto mine = kvmxx::fail_with_hint("VFIO_SET_IOMMU", ENODEV, "type=8", "attach a group first");
    EXPECT_STREQ(mine.error().operation(), "VFIO_SET_IOMMU");
    EXPECT_EQ(mine.error().errnum(), ENODEV);
    EXPECT_EQ(mine.error().detail(), "type=8");
    EXPECT_EQ(mine.error().hint(), "attach a group first");
    // KVM_CREATE_VCPU + EEXIST has a default hint (fail() gives one); an explicit one replaces it.
    ASSERT_FALSE(kvmxx::fail("KVM_CREATE_VCPU", EEXIST).error().hint().empty());
    EXPECT_EQ(kvmxx::fail_with_hint("KVM_CREATE_VCPU", EEXIST, "", "mine").error().hint(), "mine");
    EXPECT_TRUE(kvmxx::fail_with_hint("KVM_CREATE_VCPU", EEXIST, "", "").error().hint().empty());
}

#if defined(__cpp_exceptions)
TEST(ExpectedAccess, ValueOfAnErrorThrowsBadExpectedAccessHoldingTheError) {
    // [expected.object.obs]: value() throws bad_expected_access(error()) when there is no value.
    kvmxx::expected<int, int> e = kvmxx::unexpected<int>(7);
    bool thrown = false;
    try {
        (void)e.value();
    } catch (const kvmxx::bad_expected_access<int>& x) {
        thrown = true;
        EXPECT_EQ(x.error(), 7);
        ASSERT_NE(x.what(), nullptr);
        EXPECT_GT(std::strlen(x.what()), 0u);
    }
    EXPECT_TRUE(thrown);
}
#endif

TEST(ExpectedEmplace, ReplacesAnErrorWithAValueAndReturnsIt) {
    // [expected.object.emplace]: destroys what is held, constructs the value from the
    // arguments (a nothrow construction); has_value() after.
    kvmxx::expected<std::pair<int, int>, int> e = kvmxx::unexpected<int>(3);
    std::pair<int, int>& held = e.emplace(4, 5);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(*e, std::make_pair(4, 5));
    EXPECT_EQ(&held, &*e);
    e.emplace(6, 7);
    EXPECT_EQ(*e, std::make_pair(6, 7));
    kvmxx::expected<void, int> v = kvmxx::unexpected<int>(1);
    v.emplace();
    EXPECT_TRUE(v.has_value());
}

// ---- owners of descriptors and mappings -------------------------------------

TEST(FdOwners, EmptyOwnersAreInvalidAndAnAdoptedFdIsTheirsAndClosedWithThem) {
    // The empty state of every owner is UniqueFd's: valid() false, fd() == -1.
    kvmxx::Kvm kvm;
    kvmxx::Vm vm;
    kvmxx::Device device;
    kvmxx::VfioContainer container;
    kvmxx::VfioGroup group;
    kvmxx::VfioDevice vfio_device;
    EXPECT_FALSE(kvm.valid());
    EXPECT_EQ(kvm.fd(), -1);
    EXPECT_FALSE(vm.valid());
    EXPECT_EQ(vm.fd(), -1);
    EXPECT_FALSE(device.valid());
    EXPECT_EQ(device.fd(), -1);
    EXPECT_FALSE(container.valid());
    EXPECT_EQ(container.fd(), -1);
    EXPECT_FALSE(group.valid());
    EXPECT_EQ(group.fd(), -1);
    EXPECT_FALSE(vfio_device.valid());
    EXPECT_EQ(vfio_device.fd(), -1);

    std::vector<int> raw;
    for (int i = 0; i < 6; ++i) raw.push_back(new_fd());
    for (int fd : raw) ASSERT_GE(fd, 0);
    {
        kvmxx::Kvm k(kvmxx::UniqueFd{raw[0]});
        kvmxx::Vm v(kvmxx::UniqueFd{raw[1]}, 4096);
        kvmxx::Device d(kvmxx::UniqueFd{raw[2]}, KVM_DEV_TYPE_VFIO);
        kvmxx::VfioContainer c(kvmxx::UniqueFd{raw[3]});
        kvmxx::VfioGroup g(kvmxx::UniqueFd{raw[4]}, 12);
        kvmxx::VfioDevice f(kvmxx::UniqueFd{raw[5]}, "0000:00:04.0");
        EXPECT_TRUE(k.valid());
        EXPECT_EQ(k.fd(), raw[0]);
        EXPECT_TRUE(v.valid());
        EXPECT_EQ(v.fd(), raw[1]);
        EXPECT_TRUE(d.valid());
        EXPECT_EQ(d.fd(), raw[2]);
        EXPECT_TRUE(c.valid());
        EXPECT_EQ(c.fd(), raw[3]);
        EXPECT_TRUE(g.valid());
        EXPECT_EQ(g.fd(), raw[4]);
        EXPECT_TRUE(f.valid());
        EXPECT_EQ(f.fd(), raw[5]);
    }
    for (int fd : raw) EXPECT_FALSE(fd_open(fd)) << "fd " << fd << " outlived its owner";
}

TEST(KvmVfioDevice, IsTheDeviceItWasMadeFrom) {
    const int raw = new_fd();
    ASSERT_GE(raw, 0);
    kvmxx::KvmVfio kv(kvmxx::Device(kvmxx::UniqueFd{raw}, KVM_DEV_TYPE_VFIO));
    EXPECT_EQ(kv.device().fd(), raw);
    EXPECT_EQ(kv.device().type(), std::uint32_t{KVM_DEV_TYPE_VFIO});
}

TEST(VmCounts, AVcpuTheKernelRefusesIsNotCountedAndThePageSizeIsTheSystems) {
    const int raw = new_fd();
    ASSERT_GE(raw, 0);
    kvmxx::Vm vm(kvmxx::UniqueFd{raw}, 4096);
    EXPECT_EQ(vm.vcpu_count(), 0u);
    auto cpu = vm.create_vcpu(0);  // KVM_CREATE_VCPU on an eventfd: ENOTTY (ioctl(2))
    ASSERT_FALSE(cpu);
    EXPECT_EQ(cpu.error().errnum(), ENOTTY);
    EXPECT_EQ(vm.vcpu_count(), 0u);
    EXPECT_EQ(kvmxx::Vm::page_size(), static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
}

TEST(MappingReset, UnmapsAtOnceAndLeavesTheEmptyState) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    auto m = kvmxx::Mapping::anonymous(2 * page);
    ASSERT_TRUE(m);
    void* where = m->data();
    m->reset();
    EXPECT_FALSE(m->valid());
    EXPECT_EQ(m->data(), nullptr);
    EXPECT_EQ(m->size(), 0u);
    unsigned char v[2];
    EXPECT_EQ(::mincore(where, 2 * page, v), -1);  // mincore(2): ENOMEM, the range is not mapped
    EXPECT_EQ(errno, ENOMEM);
    m->reset();  // empty: nothing to unmap
    EXPECT_FALSE(m->valid());
}

TEST(MemoryRegionBytes, AreTheHostBytesOfTheWholeSlot) {
    std::array<std::uint8_t, 64> host{};
    kvmxx::MemoryRegion region{.slot = 1, .gpa = 0x1000, .size = host.size(), .host = host.data()};
    auto bytes = region.bytes();
    EXPECT_EQ(bytes.data(), host.data());
    EXPECT_EQ(bytes.size(), host.size());
}

// ---- kicks ----------------------------------------------------------------

volatile std::sig_atomic_t kicks_seen = 0;
void count_kick(int) { kicks_seen = kicks_seen + 1; }

TEST(VcpuKick, AKickSetsImmediateExitAndSignalsTheRunThreadWithTheSignalChosen) {
    // No other test of this binary makes a kicker, so this one may choose the signal
    // (set_kick_signal: before the first kicker; the application owns the handler, which
    // stays installed).
    struct sigaction sa{};
    sa.sa_handler = &count_kick;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(::sigaction(SIGUSR2, &sa, nullptr), 0);
    kvmxx::set_kick_signal(SIGUSR2);
    kicks_seen = 0;

    auto page = kvmxx::Mapping::anonymous(4096);
    ASSERT_TRUE(page);
    kvmxx::Vcpu cpu(kvmxx::UniqueFd(-1), 7, std::move(*page));
    EXPECT_EQ(cpu.id(), 7u);
    EXPECT_FALSE(cpu.valid());
    EXPECT_EQ(cpu.fd(), -1);
    auto kick = cpu.kicker();
    auto r = cpu.run();  // records this thread as the vCPU's; KVM_RUN on no descriptor is EBADF
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EBADF);
    EXPECT_EQ(cpu.raw_run().immediate_exit, 0);
    kick.kick();
    // api.rst: with immediate_exit 1, the next KVM_RUN returns EINTR at once.
    EXPECT_EQ(cpu.raw_run().immediate_exit, 1);
    for (int i = 0; i < 1000 && kicks_seen == 0; ++i) ::usleep(1000);
    const int seen = kicks_seen;
    EXPECT_EQ(seen, 1) << "one kick, one " << SIGUSR2 << " signal";
}

// ---- the trace ------------------------------------------------------------

TEST(TraceSwitch, EnabledFollowsEnableAndDisableAndEmitReachesTheSink) {
    const bool was = kvmxx::trace::enabled();
    kvmxx::trace::enable();
    EXPECT_TRUE(kvmxx::trace::enabled());
    kvmxx::trace::disable();
    EXPECT_FALSE(kvmxx::trace::enabled());
    std::vector<std::string> lines;
    kvmxx::trace::set_sink([](std::string_view line, void* out) { static_cast<std::vector<std::string>*>(out)->emplace_back(line); },
                           &lines);
    kvmxx::trace::emit("KVM_RUN vcpu=0 -> 0");
    kvmxx::trace::set_sink(nullptr);
    EXPECT_EQ(lines, std::vector<std::string>{"KVM_RUN vcpu=0 -> 0"});
    kvmxx::trace::enable(was);
}

TEST(TraceArgs, RawAppendsTextAsItIsAfterOneSpaceAndTextIsTheLineSoFar) {
    // The trace's argument text is "key=value" words separated by one space (trace.hpp).
    kvmxx::trace::Args args;
    EXPECT_EQ(args.text(), "");
    args.dec("slot", 1);
    EXPECT_EQ(args.text(), "slot=1");
    args.raw("flags=RESAMPLE");
    EXPECT_EQ(args.text(), "slot=1 flags=RESAMPLE");
    kvmxx::trace::Args first;
    first.raw("vcpu=0");
    EXPECT_EQ(first.text(), "vcpu=0") << "no space before the first word";
}

// ---- routing and variable-length arguments ------------------------------------

TEST(IrqRouteClear, EmptiesTheTableSoThatItCommitsNoEntries) {
    kvmxx::IrqRoute route;
    EXPECT_TRUE(route.empty());
    route.add_irqchip(1, 0, 1).add_msi(2, {.address = 0xfee0'0000, .data = 0x31});
    EXPECT_FALSE(route.empty());
    route.clear();
    EXPECT_TRUE(route.empty());
    EXPECT_EQ(route.size(), 0u);
    EXPECT_TRUE(route.entries().empty());
    EXPECT_EQ(route.prepare(true).head().nr, 0u) << "KVM_SET_GSI_ROUTING with nr = 0: an empty table";
}

TEST(FlexArgCapacity, IsTheRoomAskedForWithTheEntriesZeroed) {
    kvmxx::uapi::FlexArg<kvmxx::uapi::IrqRoutingHead, kvm_irq_routing_entry> arg(3);
    EXPECT_EQ(arg.capacity(), 3u);
    for (const auto& e : arg.entries(arg.capacity())) {
        EXPECT_EQ(e.gsi, 0u);
        EXPECT_EQ(e.type, 0u);
    }
}

#if KVMXX_ARCH_X86_64
TEST(CpuidTableCapacity, IsTheRoomAskedForAndByDefaultKvmMaxCpuidEntries) {
    kvmxx::CpuidTable five(5);
    EXPECT_EQ(five.capacity(), 5u);
    EXPECT_EQ(five.size(), 5u);
    kvmxx::CpuidTable all;
    EXPECT_EQ(all.capacity(), 256u);  // KVM_MAX_CPUID_ENTRIES (arch/x86/include/asm/kvm_host.h)
}

TEST(XsaveAreaBytes, AreTheImageWithMxcsrAtOffset24OfTheFxsaveArea) {
    kvmxx::XsaveArea area;
    EXPECT_EQ(area.bytes().size(), 4096u);  // struct kvm_xsave: __u32 region[1024]
    const std::uint32_t mxcsr = 0x1f80;     // SDM vol. 1, 10.5.1.1: MXCSR at bytes 24-27
    std::memcpy(area.bytes().data() + 24, &mxcsr, sizeof mxcsr);
    EXPECT_EQ(area.mxcsr(), mxcsr);
    const kvmxx::XsaveArea& view = area;
    EXPECT_EQ(view.bytes().data(), area.bytes().data());
    EXPECT_EQ(kvmxx::XsaveArea(8192).bytes().size(), 8192u);
}

TEST(X86IrqchipName, NamesTheChipIdsOfKvmGetIrqchip) {
    // api.rst, KVM_GET_IRQCHIP: chip_id 0 = PIC1, 1 = PIC2, 2 = IOAPIC (KVM_IRQCHIP_PIC_MASTER, ...).
    EXPECT_EQ(static_cast<std::uint32_t>(kvmxx::x86::Irqchip::PicMaster), 0u);
    EXPECT_EQ(static_cast<std::uint32_t>(kvmxx::x86::Irqchip::PicSlave), 1u);
    EXPECT_EQ(static_cast<std::uint32_t>(kvmxx::x86::Irqchip::Ioapic), 2u);
    EXPECT_STREQ(kvmxx::x86::irqchip_name(kvmxx::x86::Irqchip::PicMaster), "PIC_MASTER");
    EXPECT_STREQ(kvmxx::x86::irqchip_name(kvmxx::x86::Irqchip::PicSlave), "PIC_SLAVE");
    EXPECT_STREQ(kvmxx::x86::irqchip_name(kvmxx::x86::Irqchip::Ioapic), "IOAPIC");
}
#endif

// ---- names for messages ---------------------------------------------------------

TEST(DeviceTypeName, IsTheUapiNameOrTheNumber) {
    EXPECT_EQ(kvmxx::device_type_name(KVM_DEV_TYPE_VFIO), "KVM_DEV_TYPE_VFIO");
    EXPECT_EQ(kvmxx::device_type_name(KVM_DEV_TYPE_ARM_VGIC_V2), "KVM_DEV_TYPE_ARM_VGIC_V2");
    EXPECT_EQ(kvmxx::device_type_name(KVM_DEV_TYPE_ARM_VGIC_V3), "KVM_DEV_TYPE_ARM_VGIC_V3");
    EXPECT_EQ(kvmxx::device_type_name(KVM_DEV_TYPE_ARM_VGIC_ITS), "KVM_DEV_TYPE_ARM_VGIC_ITS");
    EXPECT_EQ(kvmxx::device_type_name(12345), "12345");
}

TEST(VfioNames, IrqIndexesAndRegionsAreNamedAsVfioPciNumbersThem) {
    namespace vfio = kvmxx::vfio;
    // linux/vfio.h: INTX 0, MSI 1, MSIX 2, ERR 3, REQ 4.
    EXPECT_EQ(static_cast<std::uint32_t>(vfio::Irq::Msix), 2u);
    EXPECT_STREQ(vfio::irq_name(vfio::Irq::Intx), "INTx");
    EXPECT_STREQ(vfio::irq_name(vfio::Irq::Msi), "MSI");
    EXPECT_STREQ(vfio::irq_name(vfio::Irq::Msix), "MSI-X");
    EXPECT_STREQ(vfio::irq_name(vfio::Irq::Err), "ERR");
    EXPECT_STREQ(vfio::irq_name(vfio::Irq::Req), "REQ");
    // linux/vfio.h: BAR0..BAR5 are regions 0..5, ROM 6, CONFIG 7, VGA 8.
    EXPECT_EQ(vfio::region_name(0), "BAR0");
    EXPECT_EQ(vfio::region_name(5), "BAR5");
    EXPECT_EQ(vfio::region_name(6), "ROM");
    EXPECT_EQ(vfio::region_name(7), "config");
    EXPECT_EQ(vfio::region_name(8), "VGA");
    EXPECT_EQ(vfio::region_name(9), "9");
}

TEST(VfioNames, SetIrqsFlagsAreTheUapiFlagNames) {
    EXPECT_EQ(kvmxx::vfio::irq_set_flags_name(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER),
              "DATA_EVENTFD|ACTION_TRIGGER");
    EXPECT_EQ(kvmxx::vfio::irq_set_flags_name(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK),
              "DATA_NONE|ACTION_UNMASK");
    EXPECT_EQ(kvmxx::vfio::irq_set_flags_name(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK),
              "DATA_BOOL|ACTION_MASK");
}

// ---- VFIO parsing ---------------------------------------------------------------

TEST(VfioInfoCapRead, CopiesTheCapabilityOnlyWhenItIsLongEnough) {
    vfio_region_info_cap_type written{};
    written.header.id = VFIO_REGION_INFO_CAP_TYPE;
    written.header.version = 1;
    written.type = 0x8086'0000;  // VFIO_REGION_TYPE_PCI_VENDOR_TYPE | vendor
    written.subtype = 3;
    std::array<std::uint8_t, sizeof written> bytes{};
    std::memcpy(bytes.data(), &written, sizeof written);
    kvmxx::vfio::InfoCap cap{VFIO_REGION_INFO_CAP_TYPE, 1, bytes};
    vfio_region_info_cap_type read{};
    ASSERT_TRUE(cap.read(read));
    EXPECT_EQ(read.type, written.type);
    EXPECT_EQ(read.subtype, written.subtype);
    kvmxx::vfio::InfoCap truncated{VFIO_REGION_INFO_CAP_TYPE, 1, std::span<const std::uint8_t>(bytes).first(sizeof written - 1)};
    vfio_region_info_cap_type untouched{};
    EXPECT_FALSE(truncated.read(untouched));
    EXPECT_EQ(untouched.type, 0u);
}

TEST(VfioSysfsDevice, IsTheDevicesDirectoryUnderBusPciDevices) {
    // Documentation/ABI/testing/sysfs-bus-pci: /sys/bus/pci/devices/<domain:bus:dev.fn>/
    kvmxx::vfio::Sysfs real;
    EXPECT_EQ(real.device("0000:00:04.0").string(), "/sys/bus/pci/devices/0000:00:04.0");
    kvmxx::vfio::Sysfs tree{"/tmp/fake-sys"};
    EXPECT_EQ(tree.device("0000:01:00.1").string(), "/tmp/fake-sys/bus/pci/devices/0000:01:00.1");
}

}  // namespace
