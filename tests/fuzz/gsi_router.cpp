// The VM's GSI routing table (examples/vmm/gsi_router.hpp's GsiTable) under any
// sequence of allocations, MSI route updates and removals, as devices' vectors
// are programmed and masked. Invariants: the SPIs keep their identity routes;
// allocated GSI ranges never overlap an SPI or each other; every live MSI
// route appears once with exactly the message given (address halves, data,
// device id flag); no GSI is routed twice (KVM refuses such a table); the
// KVM_SET_GSI_ROUTING argument holds the same entries.
#include "fuzz.hpp"

#include "../../examples/vmm/gsi_router.hpp"

#include <map>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const std::uint32_t spis = in.u16() % 1024;
    vmm::GsiTable table(spis);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> given;  // [first, first + count)
    std::map<std::uint32_t, kvmxx::Msi> live;
    while (!in.empty()) {
        const std::uint8_t op = in.u8();
        if (op % 4 == 0 && given.size() < 64) {
            const std::uint32_t count = in.u16() % 2049;  // a device's vectors: MSI-X has up to 2048
            const std::uint32_t first = table.allocate(count);
            FUZZ_CHECK(first >= vmm::GsiTable::msi_base(spis));
            for (const auto& [f, c] : given) FUZZ_CHECK(!fuzz::overlap(first, count, f, c));
            if (count) given.push_back({first, count});
            continue;
        }
        if (given.empty()) continue;
        const auto& [first, count] = given[in.u8() % given.size()];
        const std::uint32_t gsi = first + in.u16() % count;
        if (op % 4 == 3) {
            FUZZ_CHECK(table.erase(gsi) == (live.erase(gsi) == 1));
        } else {
            kvmxx::Msi msi{.address = in.u64(), .data = in.u32(), .devid = {}};
            if (op & 0x10) msi.devid = in.u32();
            table.set(gsi, msi);
            live[gsi] = msi;
        }
        const kvmxx::IrqRoute routes = table.routes();
        FUZZ_CHECK(routes.size() == spis + live.size());
        std::map<std::uint32_t, int> seen;
        for (const auto& e : routes.entries()) {
            FUZZ_CHECK(++seen[e.gsi] == 1);
            if (e.type == KVM_IRQ_ROUTING_IRQCHIP) {
                FUZZ_CHECK(e.gsi < spis && e.u.irqchip.pin == e.gsi && e.u.irqchip.irqchip == 0);
                continue;
            }
            FUZZ_CHECK(e.type == KVM_IRQ_ROUTING_MSI);
            auto m = live.find(e.gsi);
            FUZZ_CHECK(m != live.end() && e.gsi >= spis);
            FUZZ_CHECK((std::uint64_t{e.u.msi.address_hi} << 32 | e.u.msi.address_lo) == m->second.address);
            FUZZ_CHECK(e.u.msi.data == m->second.data);
            FUZZ_CHECK(bool(e.flags & KVM_MSI_VALID_DEVID) == m->second.devid.has_value());
            if (m->second.devid) FUZZ_CHECK(e.u.msi.devid == *m->second.devid);
        }
        // The ioctl's argument: the same entries; without KVM_CAP_MSI_DEVID no device ids.
        const bool devid = op & 0x20;
        const kvmxx::RoutingTable arg = routes.prepare(devid);
        FUZZ_CHECK(arg.entries().size() == routes.size());
        for (std::size_t i = 0; i < routes.size(); ++i) {
            const auto &a = arg.entries()[i], &r = routes.entries()[i];
            FUZZ_CHECK(a.gsi == r.gsi && a.type == r.type);
            if (a.type == KVM_IRQ_ROUTING_MSI)
                FUZZ_CHECK(devid ? a.flags == r.flags && a.u.msi.devid == r.u.msi.devid : a.flags == 0 && a.u.msi.devid == 0);
        }
    }
    return 0;
}
