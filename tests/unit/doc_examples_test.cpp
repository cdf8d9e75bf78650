// The examples of the headers' comments, as code the tests build. Each header
// shows its examples as copies of the snippets here ("Example [NAME], built by
// tests/unit/doc_examples_test.cpp"), between two `//! [NAME]` lines, and the API
// reference shows them with \snippet; docs/check-examples fails when a header's
// copy differs from its snippet or an example has none, and `docs/check-examples
// --update` copies the snippets into the headers. So an example that stops
// compiling fails the build, and one that changes here changes in the header.
//
// The examples that can run here do, and assert what their comment says: the
// ones that need no kernel object everywhere; those that need /dev/kvm where it
// is usable (skipping with the reason elsewhere; the testbeds have it); the arm64
// ones in the aarch64 testbed, the x86 ones on the host's KVM and in the x86_64
// testbed. Those that need a device bound to vfio-pci or a guest that makes a
// given exit are compiled only; the VFIO and KVM suites make the same calls
// against real devices and guests.
//! [include_all]
#include <kvmxx/kvmxx.hpp>
//! [include_all]

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <variant>

namespace {

// Why a KVM example cannot run here, or empty when it can.
std::string no_kvm_reason() {
    if (const char* h = std::getenv("KVMXX_HOST_KVM"); h && std::string(h) == "none") return "KVMXX_HOST_KVM=none hides /dev/kvm";
    if (::access("/dev/kvm", R_OK | W_OK) != 0) return std::string("/dev/kvm: ") + std::strerror(errno);
    return {};
}
#define REQUIRE_DEV_KVM()                                          \
    do {                                                           \
        if (auto why = no_kvm_reason(); !why.empty()) GTEST_SKIP() << why; \
    } while (0)

struct Register {
    std::uint32_t value = 0;
    void read(std::uint64_t, std::span<std::uint8_t> out) { std::memcpy(out.data(), &value, std::min(out.size(), sizeof value)); }
    void write(std::uint64_t, std::span<const std::uint8_t> in) { std::memcpy(&value, in.data(), std::min(in.size(), sizeof value)); }
};

// ---- compiled only: they need a guest that makes the exit, or a device on vfio-pci ----

[[maybe_unused]] bool exit_example(kvmxx::Vcpu& cpu) {
    //! [exit]
    auto exit = cpu.run();
    if (auto* w = std::get_if<kvmxx::exit::MmioWrite>(&*exit))
        std::printf("guest wrote %#llx to %#llx\n", static_cast<unsigned long long>(w->value()),
                    static_cast<unsigned long long>(w->address));
    //! [exit]
    return exit.has_value();
}

[[maybe_unused]] bool stats_example(kvmxx::Vcpu& cpu) {
    //! [stats]
    auto stats = cpu.stats();                        // KVM_GET_STATS_FD
    auto exits = stats->value("exits");              // pread of one u64
    //! [stats]
    return exits.has_value();
}

[[maybe_unused]] bool stats_parse_example(std::span<const std::uint8_t> bytes) {
    //! [stats_parse]
    auto schema = kvmxx::stats::parse(bytes);   // bytes from pread(stats_fd, ..., 0)
    //! [stats_parse]
    return schema.has_value();
}

[[maybe_unused]] kvmxx::Result<> guest_memfd_example(kvmxx::Vm& vm) {
    //! [guest_memfd]
    auto gmem = vm.create_guest_memfd(2 << 20);             // KVM_CREATE_GUEST_MEMFD
    auto slot = vm.add_guest_memfd_memory(0x8000'0000, *gmem, 0, 2 << 20);
    //! [guest_memfd]
    return slot.transform([](const kvmxx::MemoryRegion&) {});
}

[[maybe_unused]] kvmxx::Result<> create_guest_memfd_example(kvmxx::Vm& vm) {
    //! [create_guest_memfd]
    auto gmem = vm.create_guest_memfd(2 << 20, kvmxx::GuestMemfdFlags::Mmap);
    //! [create_guest_memfd]
    return gmem.transform([](const kvmxx::GuestMemfd&) {});
}

[[maybe_unused]] kvmxx::Result<> set_user_memory_region2_example(kvmxx::Vm& vm, std::uint8_t* page) {
    //! [set_user_memory_region2]
    kvmxx::uapi::UserspaceMemoryRegion2 r{};
    r.slot = 3; r.guest_phys_addr = 0x8000'0000; r.memory_size = 0x1000;
    r.userspace_addr = reinterpret_cast<std::uint64_t>(page);   // a page this process keeps mapped
    return vm.set_user_memory_region2(r);
    //! [set_user_memory_region2]
}

[[maybe_unused]] kvmxx::Result<> set_memory_attributes_example(kvmxx::Vm& vm) {
    //! [set_memory_attributes]
    return vm.set_memory_attributes(0x8000'0000, 0x1000, kvmxx::MemoryAttribute::Private);
    //! [set_memory_attributes]
}

[[maybe_unused]] kvmxx::Result<> pre_fault_memory_example(kvmxx::Vcpu& cpu) {
    //! [pre_fault_memory]
    if (auto done = cpu.pre_fault_memory(0x4000'0000, 2 << 20); !done) return kvmxx::unexpected(done.error());
    //! [pre_fault_memory]
    return {};
}

[[maybe_unused]] bool vm_types_example(const kvmxx::Kvm& kvm) {
    //! [vm_types]
    bool sw_protected = (*kvm.vm_types() >> 1) & 1;      // KVM_X86_SW_PROTECTED_VM
    //! [vm_types]
    return sw_protected;
}

[[maybe_unused]] void stats_fd_example(kvmxx::Vm& vm) {
    //! [stats_fd]
    auto stats = vm.stats();
    for (const auto& d : stats->schema().descriptors) std::puts(d.name.c_str());
    //! [stats_fd]
}

[[maybe_unused]] void describe_example(kvmxx::Vcpu& cpu) {
    //! [describe]
    auto exit = cpu.run();
    if (exit) std::puts(kvmxx::describe(*exit).c_str());
    //! [describe]
}

[[maybe_unused]] kvmxx::Result<> run_loop_example(kvmxx::Vm& vm) {
    //! [run_loop]
    auto cpu = vm.create_vcpu(0);
    if (!cpu) return kvmxx::unexpected(cpu.error());
    for (;;) {
        auto exit = cpu->run();                     // KVM_RUN
        if (!exit) return kvmxx::unexpected(exit.error());
        if (auto* r = std::get_if<kvmxx::exit::MmioRead>(&*exit)) r->set(42);
        else if (std::holds_alternative<kvmxx::exit::SystemEvent>(*exit)) return {};
    }
    //! [run_loop]
}

[[maybe_unused]] kvmxx::Result<> mmio_bus_example(kvmxx::Vcpu& cpu, Register& uart) {
    //! [mmio_bus]
    kvmxx::MmioBus bus;
    if (auto r = bus.add("uart", 0x0900'0000, 0x1000, uart); !r) return r;
    auto exit = cpu.run();
    if (exit && bus.handle(*exit)) { /* an MMIO exit, served */ }
    //! [mmio_bus]
    return {};
}

[[maybe_unused]] void mmio_bus_handle_example(kvmxx::MmioBus& bus, const kvmxx::Exit& exit) {
    //! [mmio_bus_handle]
    if (!bus.handle(exit)) { /* not MMIO: a system event, a halt, ... */ }
    //! [mmio_bus_handle]
}

[[maybe_unused]] kvmxx::Result<> vfio_example(kvmxx::Vm& vm, void* buf) {
    //! [vfio_group]
    auto group = kvmxx::VfioGroup::for_device("0000:00:04.0");  // sysfs iommu_group → /dev/vfio/N
    if (!group) return kvmxx::unexpected(group.error());
    //! [vfio_group]
    //! [vfio_container]
    auto box = kvmxx::VfioContainer::open();          // open + VFIO_GET_API_VERSION
    if (!box) return kvmxx::unexpected(box.error());
    if (auto r = box->attach(*group); !r) return r;   // VFIO_GROUP_SET_CONTAINER + VFIO_SET_IOMMU
    if (auto r = box->map_dma(0x100000, buf, 0x1000); !r) return r;  // VFIO_IOMMU_MAP_DMA: IOVA → host memory
    if (auto r = box->unmap_dma(0x100000, 0x1000); !r) return r;     // VFIO_IOMMU_UNMAP_DMA
    //! [vfio_container]
    //! [vfio_device]
    auto dev  = group->device("0000:00:04.0");                  // VFIO_GROUP_GET_DEVICE_FD
    if (!dev) return kvmxx::unexpected(dev.error());
    auto regs = dev->mmap(kvmxx::vfio::region::bar0);          // GET_REGION_INFO + mmap: the BAR in our address space
    auto irq  = kvmxx::EventFd::create();
    if (!regs || !irq) return kvmxx::unexpected(regs ? irq.error() : regs.error());
    if (auto r = dev->set_irq(kvmxx::vfio::Irq::Intx, *irq); !r) return r;  // VFIO_DEVICE_SET_IRQS: INTx → eventfd
    //! [vfio_device]
    //! [pci_config]
    auto cfg = dev->config();                         // 256 bytes via the config region
    if (!cfg) return kvmxx::unexpected(cfg.error());
    kvmxx::vfio::PciConfig pci(*cfg);
    std::printf("%04x:%04x\n", pci.vendor_id(), pci.device_id());
    if (auto msix = pci.msix()) std::printf("%u MSI-X vectors in BAR%u\n", msix->table_size, msix->table_bar);
    //! [pci_config]
    //! [kvm_vfio]
    auto kv = kvmxx::KvmVfio::create(vm);   // KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO)
    if (!kv) return kvmxx::unexpected(kv.error());
    if (auto r = kv->add_group(*group); !r) return r;  // KVM_SET_DEVICE_ATTR(KVM_DEV_VFIO_GROUP_ADD)
    //! [kvm_vfio]
    return {};
}

[[maybe_unused]] bool vfio_mmap_example(const kvmxx::VfioDevice& dev) {
    //! [vfio_mmap]
    auto regs = dev.mmap(kvmxx::vfio::region::bar0);
    //! [vfio_mmap]
    return regs.has_value();
}

}  // namespace

// ---- run everywhere: no kernel object beyond an fd ---------------------------------

TEST(DocExamples, EventFdCountsSignals) {
    //! [eventfd]
    auto ev = kvmxx::EventFd::create();           // eventfd(0, EFD_CLOEXEC)
    if (!ev || !ev->signal()) return;             // counter += 1
    auto n = ev->try_read();                      // 1, counter back to 0
    //! [eventfd]
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1u);
}

TEST(DocExamples, UniqueFdReleaseHandsOverTheFd) {
    //! [unique_fd]
    kvmxx::UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    int raw = fd.release();   // the caller now closes raw
    //! [unique_fd]
    ASSERT_GE(raw, 0);
    EXPECT_FALSE(fd.valid());
    EXPECT_EQ(::close(raw), 0);  // still open: the UniqueFd did not close it
}

TEST(DocExamples, MappingIsZeroFilled) {
    //! [mapping]
    auto ram = kvmxx::Mapping::anonymous(16 << 20);   // 16 MiB, zero-filled
    if (ram) std::memset(ram->data(), 0xa5, 4096);    // written like any memory
    //! [mapping]
    ASSERT_TRUE(ram);
    EXPECT_EQ(ram->size(), std::size_t{16} << 20);
    EXPECT_EQ(static_cast<const std::uint8_t*>(ram->data())[4096], 0) << "zero past what was written";
}

TEST(DocExamples, MmioBusRefusesAnOverlap) {
    Register uart, rtc;
    kvmxx::MmioBus bus;
    //! [mmio_bus_add]
    auto ok = bus.add("uart", 0x0900'0000, 0x1000, uart);        // ok
    auto clash = bus.add("rtc", 0x0900'0800, 0x1000, rtc);       // EEXIST: overlaps "uart"
    //! [mmio_bus_add]
    EXPECT_TRUE(ok);
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().errnum(), EEXIST);
    EXPECT_NE(clash.error().message().find("uart"), std::string::npos);
}

TEST(DocExamples, KvmOpenNamesTheMissingDevice) {
    //! [error]
    auto kvm = kvmxx::Kvm::open("/nonexistent/kvm");
    if (!kvm) std::fprintf(stderr, "%s\n", kvm.error().message().c_str());
    // open: No such file or directory (ENOENT) [/nonexistent/kvm]
    //! [error]
    ASSERT_FALSE(kvm);
    EXPECT_EQ(kvm.error().errnum(), ENOENT);
    EXPECT_EQ(kvm.error().message().rfind("open: No such file or directory (ENOENT) [/nonexistent/kvm]", 0), 0u)
        << kvm.error().message();
}

TEST(DocExamples, IrqRouteBuildsOneTable) {
    //! [irq_route]
    kvmxx::IrqRoute route;
    route.add_irqchip_pins(0, 64);                 // keep GSI n → SPI n
    route.add_msi(64, {.address = 0x0808'0040, .data = 0, .devid = 0x8});
    //! [irq_route]
    EXPECT_EQ(route.size(), 65u);
}

// ---- run where /dev/kvm is usable ----------------------------------------------------

TEST(DocExamples, KvmVmMemoryAndVcpu) {
    REQUIRE_DEV_KVM();
    //! [kvm]
    auto kvm = kvmxx::Kvm::open();                 // open("/dev/kvm") + KVM_GET_API_VERSION
    if (!kvm) { std::puts(kvm.error().message().c_str()); return; }
    auto vm = kvm->create_vm();                    // KVM_CREATE_VM
    //! [kvm]
    ASSERT_TRUE(vm) << vm.error().message();
    //! [vm]
    auto ram  = vm->add_memory(0x4000'0000, 16 << 20);    // mmap + KVM_SET_USER_MEMORY_REGION
    auto cpu  = vm->create_vcpu(0);                       // KVM_CREATE_VCPU + mmap(kvm_run)
    //! [vm]
    ASSERT_TRUE(ram) << ram.error().message();
    ASSERT_TRUE(cpu) << cpu.error().message();
    EXPECT_EQ(ram->gpa, 0x4000'0000u);
    EXPECT_EQ(ram->size, 16u << 20);
}

TEST(DocExamples, CapCheckAndSysIoctl) {
    REQUIRE_DEV_KVM();
    auto opened = kvmxx::Kvm::open();
    ASSERT_TRUE(opened) << opened.error().message();
    const kvmxx::Kvm& kvm = *opened;
    bool resample = true;
    //! [cap]
    if (*kvm.check(kvmxx::Cap::IrqfdResample) == 0) { /* no level-triggered irqfds */ resample = false; }
    //! [cap]
    EXPECT_EQ(resample, kvm.has(kvmxx::Cap::IrqfdResample));
    auto vm = opened->create_vm();
    ASSERT_TRUE(vm) << vm.error().message();
    const int vm_fd = vm->fd();
    //! [sys_ioctl]
    auto r = kvmxx::sys::ioctl(vm_fd, KVM_CREATE_VCPU, "KVM_CREATE_VCPU", 0UL,
                               [] { return std::string("vcpu_id=0"); });
    //! [sys_ioctl]
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_GE(*r, 0) << "the new vCPU's fd";
    EXPECT_EQ(::close(*r), 0);
}

TEST(DocExamples, AddMemoryCreateVcpuAndIoeventfd) {
    REQUIRE_DEV_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_TRUE(kvm);
    auto made = kvm->create_vm();
    ASSERT_TRUE(made) << made.error().message();
    kvmxx::Vm& vm = *made;
    static const std::uint8_t code[] = {0xf4, 0xf4};
    //! [add_memory]
    auto ram = vm.add_memory(0x4000'0000, 64 << 20);
    std::memcpy(ram->host, code, sizeof code);
    //! [add_memory]
    EXPECT_EQ(ram->host[1], 0xf4);
    //! [create_vcpu]
    auto cpu = vm.create_vcpu(0);
    //! [create_vcpu]
    ASSERT_TRUE(cpu) << cpu.error().message();
    auto doorbell = kvmxx::EventFd::create();
    ASSERT_TRUE(doorbell);
    //! [ioeventfd]
    auto wired = vm.ioeventfd(*doorbell, {.address = 0x0a00'0000, .length = 4, .datamatch = 1});
    //! [ioeventfd]
    EXPECT_TRUE(wired) << wired.error().message();
    auto kick = cpu->kicker();
    //! [kicker]
    std::thread([kick] { kick.kick(); }).join();
    //! [kicker]
}

#if KVMXX_ARCH_X86_64
TEST(DocExamples, X86IrqchipCpuidMsrsXsaveAndLongMode) {
    REQUIRE_DEV_KVM();
    auto opened = kvmxx::Kvm::open();
    ASSERT_TRUE(opened);
    const kvmxx::Kvm& kvm = *opened;
    auto made = opened->create_vm();
    ASSERT_TRUE(made) << made.error().message();
    kvmxx::Vm& vm = *made;
    auto eventfd = kvmxx::EventFd::create();
    ASSERT_TRUE(eventfd);
    auto wire = [&]() -> kvmxx::Result<> {
        //! [x86_irqchip]
        if (auto r = vm.create_irqchip(); !r) return r;
        return vm.irqfd(*eventfd, 5);          // → PIC IRQ 5 (and IOAPIC pin 5)
        //! [x86_irqchip]
    };
    auto wired = wire();
    ASSERT_TRUE(wired) << wired.error().message();
    auto vcpu = vm.create_vcpu(0);
    ASSERT_TRUE(vcpu) << vcpu.error().message();
    kvmxx::Vcpu& cpu = *vcpu;
    //! [cpuid]
    auto table = kvm.supported_cpuid();             // what this host can offer
    for (auto& leaf : table->entries())              // edit: hide, brand, limit...
        if (leaf.function == 0) std::memcpy(&leaf.ebx, "kvmx", 4);
    auto given = cpu.set_cpuid(*table);              // what this vCPU will see
    //! [cpuid]
    EXPECT_TRUE(given) << given.error().message();
    //! [set_cpuid]
    auto again = kvm.supported_cpuid();
    auto set = cpu.set_cpuid(*again);
    //! [set_cpuid]
    EXPECT_TRUE(set) << set.error().message();
    //! [msr_batch]
    kvmxx::MsrBatch batch{0x174, 0x175, 0x176};     // IA32_SYSENTER_CS/ESP/EIP
    auto n = cpu.get_msrs(batch);                    // one KVM_GET_MSRS
    std::uint64_t cs = *batch.value(0x174);
    //! [msr_batch]
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(*n, 3u);
    EXPECT_EQ(cs, 0u) << "IA32_SYSENTER_CS after reset";
    //! [xsave2]
    auto image = cpu.xsave2(cpu.xsave_size());
    if (image) (void)cpu.set_xsave(*image);
    //! [xsave2]
    EXPECT_TRUE(image) << image.error().message();
    //! [long_mode]
    auto ram = vm.add_memory(0, 16 << 20);
    auto mode = kvmxx::x86::enter_long_mode(cpu, *ram, 0x1000, 0x10'0000, 0x20'0000);
    // the guest starts at 0x100000 in 64-bit mode, stack below 0x200000; the
    // tables (a GDT, then PML4, PDPT, PDs) are in guest RAM from GPA 0x1000
    //! [long_mode]
    ASSERT_TRUE(mode) << mode.error().message();
    auto regs = cpu.regs();
    ASSERT_TRUE(regs);
    EXPECT_EQ(regs->rip, 0x10'0000u);
    EXPECT_EQ(regs->rsp, 0x20'0000u);
}
#endif

#if KVMXX_ARCH_ARM64
// A VM with two vCPUs (the second powered off) and its GIC: what the arm64 examples need.
TEST(DocExamples, Arm64VcpusRegistersSveAndTheGic) {
    REQUIRE_DEV_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_TRUE(kvm);
    auto made = kvm->create_vm();
    ASSERT_TRUE(made) << made.error().message();
    kvmxx::Vm& vm = *made;
    auto vcpu = vm.create_vcpu(0);
    ASSERT_TRUE(vcpu) << vcpu.error().message();
    kvmxx::Vcpu& cpu = *vcpu;
    //! [secondary_vcpu]
    auto cpu1 = vm.create_vcpu(1, {.power_off = true});   // waits for PSCI CPU_ON
    //! [secondary_vcpu]
    ASSERT_TRUE(cpu1) << cpu1.error().message();
    auto regs = [&]() -> kvmxx::Result<> {
        //! [arm64_regs]
        if (auto r = cpu.set(kvmxx::arm64::reg::pc, 0x4000'0000); !r) return r;
        auto mpidr = cpu.get(kvmxx::arm64::sysreg::MPIDR_EL1);
        auto id = kvmxx::arm64::sysreg_by_name("SCTLR_EL1");   // std::optional<RegId<u64>>
        //! [arm64_regs]
        if (!mpidr) return kvmxx::unexpected(mpidr.error());
        EXPECT_TRUE(id);
        return {};
    };
    auto regs_done = regs();
    ASSERT_TRUE(regs_done) << regs_done.error().message();
    //! [reg_id]
    std::uint64_t pc = *cpu.get(kvmxx::arm64::reg::pc);
    kvmxx::arm64::u128 q0 = *cpu.get(kvmxx::arm64::reg::v(0));   // unsigned __int128
    //! [reg_id]
    EXPECT_EQ(pc, 0x4000'0000u);
    EXPECT_EQ(q0, 0u);
    //! [set_reg]
    auto moved = cpu.set(kvmxx::arm64::reg::pc, 0x4000'1000);
    //! [set_reg]
    EXPECT_TRUE(moved);
    //! [get_reg]
    std::uint64_t now = *cpu.get(kvmxx::arm64::reg::pc);
    //! [get_reg]
    EXPECT_EQ(now, 0x4000'1000u);

    auto ev5 = kvmxx::EventFd::create(), ev6 = kvmxx::EventFd::create(), ev7 = kvmxx::EventFd::create();
    ASSERT_TRUE(ev5 && ev6 && ev7);
    auto setup_gic = [&](const kvmxx::EventFd& ev) -> kvmxx::Result<kvmxx::arm64::Vgic> {
        //! [vgic]
        auto gic = kvmxx::arm64::Vgic::setup(vm, {});   // all six steps, QEMU-virt-like layout
        if (!gic) return kvmxx::unexpected(gic.error());
        if (auto r = vm.irqfd(ev, kvmxx::arm64::spi_gsi(5)); !r) return kvmxx::unexpected(r.error());
        //! [vgic]
        return gic;
    };
    auto gic = setup_gic(*ev5);
    ASSERT_TRUE(gic) << gic.error().message();
    //! [get_attr]
    auto n = gic->device().get_attr<std::uint32_t>(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0);
    //! [get_attr]
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(*n, kvmxx::arm64::GicLayout{}.nr_irqs);
    auto lines = [&](const kvmxx::EventFd& ev) -> kvmxx::Result<> {
        //! [gic_spi]
        if (auto r = vm.irqfd(ev, kvmxx::arm64::spi_gsi(6)); !r) return r;   // guest sees INTID 38
        if (auto r = vm.irq_line(kvmxx::arm64::irq_line_spi(37), true); !r) return r;
        //! [gic_spi]
        return {};
    };
    auto lines_done = lines(*ev6);
    EXPECT_TRUE(lines_done) << lines_done.error().message();
    auto wire = [&](const kvmxx::EventFd& eventfd) -> kvmxx::Result<> {
        //! [irqfd_spi]
        return vm.irqfd(eventfd, kvmxx::arm64::spi_gsi(7));
        //! [irqfd_spi]
    };
    auto wired = wire(*ev7);
    EXPECT_TRUE(wired) << wired.error().message();
}

// An ITS of one's own: a VM whose GIC has none (the default layout puts one at 0x08080000).
TEST(DocExamples, Arm64ItsByDeviceAttributes) {
    REQUIRE_DEV_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_TRUE(kvm);
    auto made = kvm->create_vm();
    ASSERT_TRUE(made) << made.error().message();
    kvmxx::Vm& vm = *made;
    auto cpu = vm.create_vcpu(0);
    ASSERT_TRUE(cpu) << cpu.error().message();
    auto gic = kvmxx::arm64::Vgic::setup(vm, {.its = std::nullopt});
    ASSERT_TRUE(gic) << gic.error().message();
    auto its_made = [&]() -> kvmxx::Result<> {
        //! [device_attr]
        auto its = vm.create_device(KVM_DEV_TYPE_ARM_VGIC_ITS);
        std::uint64_t base = 0x0808'0000;
        if (!its) return kvmxx::unexpected(its.error());
        return its->set_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, base);
        //! [device_attr]
    };
    auto its_done = its_made();
    ASSERT_TRUE(its_done) << its_done.error().message();
}

// SVE lengths are fixed at vCPU creation: a VM of their own (the host must have SVE).
TEST(DocExamples, Arm64SveLengths) {
    REQUIRE_DEV_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_TRUE(kvm);
    if (!kvm->has(kvmxx::Cap::ArmSve)) GTEST_SKIP() << "this host's KVM has no SVE (KVM_CAP_ARM_SVE)";
    auto made = kvm->create_vm();
    ASSERT_TRUE(made) << made.error().message();
    kvmxx::Vm& vm = *made;
    //! [sve]
    auto lengths = kvmxx::arm64::SveVectorLengths::of_bits({128, 256});
    auto cpu = vm.create_vcpu(0, {.sve = true, .sve_lengths = *lengths});
    auto set = cpu->sve_vector_lengths();   // {128, 256}
    //! [sve]
    ASSERT_TRUE(set) << set.error().message();
    EXPECT_EQ(*set, *lengths);
    auto init_with_sve = [&](kvmxx::Vcpu& cpu) -> kvmxx::Result<> {
        //! [sve_init]
        auto init = vm.preferred_target({.sve = true});
        if (!init) return kvmxx::unexpected(init.error());
        return cpu.init(*init, kvmxx::arm64::SveVectorLengths::of_bits({128, 256}).value());
        //! [sve_init]
    };
    (void)init_with_sve;  // compiled: a vCPU is initialised once, and create_vcpu did it
}

// The guest PMU's two steps, compiled (tests/kvm/arm64/vcpu_test.cpp runs them in order).
[[maybe_unused]] kvmxx::Result<> pmu_setup(kvmxx::Vcpu& cpu) {
    //! [pmu_setup]
    if (auto r = cpu.set_pmu_irq(23); !r) return r;  // PPI 7, after Vgic::setup
    return cpu.init_pmu();
    //! [pmu_setup]
}
#endif
