// The seed's whole runtime path, asserted hop by hop, with no VMM and no
// userspace in the interrupt's way:
//   edu raises INTx → host GIC/SMMU → vfio-pci's handler signals the trigger
//   eventfd (and masks INTx) → KVM's irqfd consumes it and raises SPI 6 in the
//   in-kernel VGIC → the guest's handler runs, reads edu's status through the
//   BAR mapped into the guest as a memory slot and acks the device there →
//   the guest's EOI makes KVM signal the resample eventfd → VFIO unmasks INTx.
// The host never reads the trigger eventfd; the guest reports what it saw by MMIO.
#include "../kvm/test_vm.hpp"
#include "vfio_env.hpp"

#include <condition_variable>
#include <mutex>

GUEST_PROGRAM(edu_irq)

using namespace vfiotest;
using namespace std::chrono_literals;
namespace vfio = kvmxx::vfio;
namespace arm64 = kvmxx::arm64;

namespace {

constexpr std::uint64_t bar_gpa = 0x1000'0000;  // clear of RAM, the GIC and the report window
constexpr std::uint32_t spi = 6;                // INTID 38, level

/// Kicks the vCPU if the run has not ended within `limit`, so a lost interrupt
/// fails the test instead of hanging it.
class Watchdog {
public:
    Watchdog(kvmxx::VcpuKicker k, std::chrono::milliseconds limit)
        : thread_([this, k, limit]() mutable {
              std::unique_lock lock(m_);
              if (!cv_.wait_for(lock, limit, [&] { return done_; })) k.kick();
          }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(m_);
            done_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

kvmxx::exit::MmioWrite guest_write(kvmxx::Vcpu& cpu) {
    Watchdog dog(cpu.kicker(), 5000ms);
    auto exit = cpu.run();
    if (!exit) {
        ADD_FAILURE() << exit.error().message();
        return {};
    }
    if (auto* w = std::get_if<kvmxx::exit::MmioWrite>(&*exit)) return *w;
    ADD_FAILURE() << "expected a guest report, got " << kvmxx::describe(*exit)
                  << " (Interrupted = no interrupt within 5 s)";
    return {};
}

TEST(VfioToGuest, EduInterruptsReachTheGuestHandlerThroughIrqfdAndAreAckedThroughTheBar) {
    REQUIRE_KVM();
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    kvmtest::TestVm t;
    kvmtest::TestVm::create(t, program_edu_irq());
    if (HasFatalFailure()) return;
    auto gic = arm64::Vgic::setup(t.vm, {});
    ASSERT_OK(gic);

    // The device's BAR0 becomes guest memory: guest loads and stores reach edu directly.
    auto bar = o.device.mmap(vfio::region::bar0);
    ASSERT_OK(bar);
    ASSERT_OK(t.vm.add_user_memory(bar_gpa, bar->bytes()));
    ASSERT_OK(t.cpu().set(arm64::reg::x(5), bar_gpa));

    // VFIO_DEVICE_SET_IRQS: INTx → trigger; "unmask" eventfd → INTx unmask.
    auto trigger = kvmxx::EventFd::create();
    auto unmask = kvmxx::EventFd::create();
    ASSERT_OK(trigger);
    ASSERT_OK(unmask);
    ASSERT_OK(o.device.set_irq(vfio::Irq::Intx, *trigger));
    ASSERT_OK(o.device.set_unmask_eventfd(vfio::Irq::Intx, *unmask));
    // KVM_IRQFD: trigger → SPI 6, level, with the unmask eventfd as the resample fd.
    ASSERT_OK(t.vm.irqfd(*trigger, arm64::spi_gsi(spi), *unmask));

    auto ready = guest_write(t.cpu());
    ASSERT_EQ(ready.address, kvmtest::report) << "guest did not reach 'ready' (ESR at +0x100?)";

    constexpr std::uint32_t rounds = 20;
    for (std::uint32_t i = 1; i <= rounds; ++i) {
        reg32(*bar, edu::irq_raise) = i;  // the device interrupts (the test plays its hardware event)
        auto intid = guest_write(t.cpu());
        ASSERT_EQ(intid.address, kvmtest::report + 8) << "round " << i;
        EXPECT_EQ(intid.value(), arm64::spi_intid(spi)) << "the guest's IAR read the SPI irqfd raised";
        auto acked = guest_write(t.cpu());
        ASSERT_EQ(acked.address, kvmtest::report + 16);
        EXPECT_EQ(acked.value(), i) << "the guest read edu's interrupt status through the BAR slot";
        EXPECT_EQ(reg32(*bar, edu::irq_status), 0u) << "the guest's ack reached the device";
        // Round i+1 can only arrive if the guest's EOI unmasked INTx through the resample fd.
    }
    auto left = trigger->try_read();
    ASSERT_OK(left);
    EXPECT_FALSE(left->has_value()) << "KVM's irqfd consumed every signal; the host never read the eventfd";
    ASSERT_OK(t.vm.remove_irqfd(*trigger, arm64::spi_gsi(spi)));
}

TEST(VfioToGuest, KvmVfioDeviceAcceptsTheGroupAndRefusesItTwice) {
    REQUIRE_KVM();
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    kvmtest::TestVm t;
    kvmtest::TestVm::create(t, program_edu_irq());
    auto kv = kvmxx::KvmVfio::create(t.vm);
    ASSERT_OK(kv);
    ASSERT_OK(kv->add_group(o.group));
    auto again = kv->add_group(o.group);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().errnum(), EEXIST);
    ASSERT_OK(kv->remove_group(o.group));
}

}  // namespace
