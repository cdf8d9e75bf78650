// kvmxx-vmm — a small, complete VMM that boots an arm64 Linux kernel.
//
// main() is the boot story, top to bottom; each step is one file:
//   options.hpp   the command line          loader.hpp  the arm64 boot protocol
//   kernel_image.hpp  an arm64 Image, or a raw binary at RAM + 0x80000
//   passthrough.hpp  VFIO devices → the guest's PCI bus (vfio_pci.hpp and its parts)
//   board.hpp     where everything sits     dtb.hpp     the device tree
//   console.hpp   where the console goes and what is typed into it
//   gic.hpp, pl011.hpp, boot_timer.hpp, pci_host.hpp, pmu.hpp  the devices, each with its
//                 MMIO range, its interrupt and its device-tree node (device.hpp)
//   vcpu.hpp      the vCPU threads and how the run ends
// Every step returns a kvmxx::Result; the first error is one line on stderr and
// the exit status it means (errors.hpp).
//
// kvmxx-vmm --kernel Image --initrd initramfs.cpio --cpus 2 --memory 256M --device vfio:0000:00:04.0
#include "board.hpp"
#include "boot_timer.hpp"
#include "console.hpp"
#include "dtb.hpp"
#include "errors.hpp"
#include "gic.hpp"
#include "gsi_router.hpp"
#include "loader.hpp"
#include "options.hpp"
#include "passthrough.hpp"
#include "pci_host.hpp"
#include "pl011.hpp"
#include "pmu.hpp"
#include "vcpu.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
    const auto started = vmm::BootTimer::Clock::now();
    auto opt = vmm::parse_options({argv + 1, argv + argc});
    if (!opt) return vmm::report(opt.error());  // one line; --help has the rest
    if (opt->help) {
        std::fputs(vmm::usage, stdout);
        return 0;
    }
    if (opt->trace) kvmxx::trace::enable();

    auto console = vmm::Console::open(opt->console);
    if (!console) return vmm::report(console.error());

    // The kernel and initrd, checked and placed before anything is created.
    auto images = vmm::BootImages::load(opt->kernel, opt->initrd, vmm::board::ram_base, opt->memory);
    if (!images) return vmm::report(images.error());

    // The devices to pass through: their groups viable, in one container.
    auto passthrough = vmm::Passthrough::open(opt->devices);
    if (!passthrough) return vmm::report(passthrough.error());

    // The VM: RAM, the vCPUs, the GIC (after the vCPUs, as the kernel requires).
    auto kvm = kvmxx::Kvm::open();
    if (!kvm) return vmm::report("opening /dev/kvm", kvm.error());
    auto vm = kvm->create_vm();
    if (!vm) return vmm::report("creating the VM", vm.error());
    auto ram = vm->add_memory(vmm::board::ram_base, opt->memory);
    if (!ram) return vmm::report("adding guest RAM", ram.error());
    vmm::note("RAM: " + std::to_string(ram->size >> 20) + " MiB at " + kvmxx::trace::hex(ram->gpa) + ", slot " +
               std::to_string(ram->slot));
    auto features = vmm::cpu_features(*kvm, *opt);
    if (!features) return vmm::report(features.error());
    auto cpus = vmm::create_vcpus(*vm, opt->cpus, *features);
    if (!cpus) return vmm::report(cpus.error());
    vmm::Gic gic(opt->cpus);
    auto vgic = gic.create(*vm);
    if (!vgic) return vmm::report(vgic.error());
    if (opt->pmu)  // the PMU after the GIC's init, as the kernel requires
        if (auto r = vmm::Pmu::setup(*cpus); !r) return vmm::report(r.error());

    // The devices: the console, the boot timer, and the PCI host with the
    // passed-through devices at their slots (guest RAM in the IOMMU first).
    vmm::Pl011 uart(vmm::board::uart.base, vmm::board::uart_spi, (*console)->output());
    uart.connect_irq([&vm = *vm](bool level) {  // a level SPI: raised while input waits
        (void)vm.irq_line(kvmxx::arm64::irq_line_spi(kvmxx::arm64::spi_intid(vmm::board::uart_spi)), level);
    });
    vmm::BootTimer boot_timer(vmm::board::boot_timer.base, started);
    vmm::PciHost pci({vmm::board::pci_ecam, vmm::board::pci_mmio32, vmm::board::pci_mmio64,
                      vmm::board::pci_intx_spi_base});
    vmm::GsiRouter router(*vm, vmm::Gic::spis);
    auto plugged = (*passthrough)->plug(*vm, *ram, router, pci);
    if (!plugged) return vmm::report(plugged.error());
    vmm::Pmu pmu;
    std::vector<vmm::Device*> devices{&gic, &uart, &boot_timer, &pci};
    if (opt->pmu) devices.push_back(&pmu);
    kvmxx::MmioBus bus;
    for (auto* d : devices)
        if (auto r = d->attach(bus); !r) return vmm::report("placing the devices", r.error());

    // The device tree from the same devices, then the images in RAM and the
    // boot CPU at the kernel's entry.
    const vmm::Guest guest{opt->cpus, opt->memory, opt->cmdline, images->initrd_start(), images->initrd_end()};
    auto dtb = vmm::make_fdt(guest, devices, uart.fdt_path());
    if (!dtb) return vmm::report("making the device tree", dtb.error());
    if (auto r = images->place(*vm, (*cpus)[0], *dtb); !r) return vmm::report(r.error());

    // Run until the guest powers off (or resets, crashes, or a signal comes).
    vmm::RunPolicy policy{.allow_reset = opt->allow_reset, .printed = [&] { return uart.printed(); }};
    if (opt->cmdline.find("earlycon") != std::string::npos)
        policy.quiet_hint = "the guest has printed nothing in 10 s, even with earlycon: is --kernel built for this machine?";
    policy.quit_requested = [&] { return (*console)->quit_requested(); };
    (*console)->start_input(uart);
    const int status = vmm::run_vcpus(*cpus, bus, policy);
    (*console)->stop();  // the input thread ends before the UART it feeds
    boot_timer.report_end();
    return status;
}
