// kvmxx/x86/modes.hpp — one call to put an x86_64 vCPU in real mode, 32-bit flat
// protected mode, or 64-bit long mode with identity-mapped page tables.
//
// Example [long_mode], built by tests/unit/doc_examples_test.cpp:
//
//     auto ram = vm.add_memory(0, 16 << 20);
//     auto mode = kvmxx::x86::enter_long_mode(cpu, *ram, 0x1000, 0x10'0000, 0x20'0000);
//     // the guest starts at 0x100000 in 64-bit mode, stack below 0x200000; the
//     // tables (a GDT, then PML4, PDPT, PDs) are in guest RAM from GPA 0x1000
//
// Each helper sets the segment and control registers (KVM_SET_SREGS) and RIP,
// RSP and RFLAGS (KVM_SET_REGS), keeping the other general registers. The
// protected and long mode helpers write a flat GDT (and the page tables) into
// guest memory so the guest may reload its segments, and enable SSE (CR4.OSFXSR,
// OSXMMEXCPT; CR0.MP, not EM). No IDT is set: an exception is a triple fault.
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "../trace.hpp"
#include "../vcpu.hpp"
#include "../vm.hpp"

#include <linux/kvm.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

KVMXX_BEGIN_NAMESPACE
#if KVMXX_ARCH_X86_64
/// x86_64: processor modes, interrupt controllers, CPUID.
namespace x86 {

/// The flat GDT's selectors (write_flat_gdt).
/// @{
inline constexpr std::uint16_t code32_selector = 0x08;
inline constexpr std::uint16_t data_selector = 0x10;
inline constexpr std::uint16_t code64_selector = 0x18;
/// @}
inline constexpr std::size_t gdt_bytes = 32;  ///< null, code32, data, code64

/// CR0 bits: protection, monitor/emulate coprocessor, extension type, native
/// FPU errors, write protect, paging.
/// @{
inline constexpr std::uint64_t cr0_pe = 1u << 0, cr0_mp = 1u << 1, cr0_em = 1u << 2, cr0_et = 1u << 4,
                               cr0_ne = 1u << 5, cr0_wp = 1u << 16, cr0_pg = 1u << 31;
/// @}
/// CR4 bits: PAE paging, FXSAVE/SSE enabled, SSE exceptions, XSAVE enabled.
/// @{
inline constexpr std::uint64_t cr4_pae = 1u << 5, cr4_osfxsr = 1u << 9, cr4_osxmmexcpt = 1u << 10,
                               cr4_osxsave = 1u << 18;
/// @}
/// EFER bits: long mode enable (set by us), long mode active (set with paging on).
/// @{
inline constexpr std::uint64_t efer_lme = 1u << 8, efer_lma = 1u << 10;
/// @}

inline constexpr std::uint64_t page_size = 0x1000;  ///< a 4 KiB page: each table's size and alignment
inline constexpr std::uint64_t large_page = 2ull << 20;   ///< what one PD entry maps
inline constexpr std::uint64_t pd_covers = 1ull << 30;     ///< what one PD (512 entries) maps
inline constexpr std::uint64_t max_identity_map = 512ull << 30;  ///< one PDPT

/// A flat descriptor (base 0, limit 4 GiB) as the GDT holds it.
/// `type` is the 4-bit segment type; `l` and `db` the code-size bits.
inline constexpr std::uint64_t flat_descriptor(std::uint8_t type, bool l, bool db) noexcept {
    std::uint64_t d = 0xffff;                         // limit 15:0
    d |= std::uint64_t{type & 0xfu} << 40;            // type
    d |= std::uint64_t{1} << 44;                      // S: code or data
    d |= std::uint64_t{1} << 47;                      // P
    d |= std::uint64_t{0xf} << 48;                    // limit 19:16
    d |= std::uint64_t{l} << 53;
    d |= std::uint64_t{db} << 54;
    d |= std::uint64_t{1} << 55;                      // G: 4 KiB granularity
    return d;
}

/// Writes the 4-entry flat GDT (null, code32 0x08, data 0x10, code64 0x18) to `out`.
inline void write_flat_gdt(std::span<std::uint8_t, gdt_bytes> out) noexcept {
    const std::uint64_t gdt[4] = {0, flat_descriptor(0xb, false, true), flat_descriptor(0x3, false, true),
                                  flat_descriptor(0xb, true, false)};
    std::memcpy(out.data(), gdt, sizeof gdt);
}

/// Pages of the identity map of the first `bytes` of the address space: PML4, PDPT,
/// and one PD per GiB (2 MiB pages).
inline constexpr std::size_t identity_map_pages(std::uint64_t bytes) noexcept {
    return 2 + static_cast<std::size_t>((bytes + pd_covers - 1) / pd_covers);
}
/// What enter_long_mode writes at its tables GPA: a page holding the GDT, then the map.
inline constexpr std::uint64_t long_mode_table_bytes(std::uint64_t bytes) noexcept {
    return page_size * (1 + identity_map_pages(bytes));
}

/// Builds 4-level page tables mapping [0, bytes) to itself with 2 MiB pages
/// (present, writable) into `tables`, which the guest sees at `gpa`: the PML4
/// at gpa, the PDPT after it, then the PDs. Returns the CR3 value (gpa).
inline Result<std::uint64_t> build_identity_map(std::span<std::uint8_t> tables, std::uint64_t gpa,
                                                std::uint64_t bytes) {
    if (gpa % page_size != 0)
        return fail("build_identity_map", EINVAL, "gpa=" + trace::hex(gpa) + " is not 4 KiB aligned");
    if (bytes == 0 || bytes > max_identity_map)
        return fail("build_identity_map", EINVAL, "bytes=" + trace::hex(bytes) + " is not in 1..512 GiB");
    const std::size_t pages = identity_map_pages(bytes);
    if (tables.size() < pages * page_size)
        return fail("build_identity_map", ENOSPC,
                    "the tables need " + std::to_string(pages) + " pages, the buffer has " +
                        std::to_string(tables.size() / page_size));
    std::memset(tables.data(), 0, pages * page_size);
    auto entry = [&](std::size_t page, std::size_t i, std::uint64_t value) {
        std::memcpy(tables.data() + page * page_size + i * 8, &value, 8);
    };
    constexpr std::uint64_t present_rw = 0x3, large = 0x80;
    entry(0, 0, (gpa + page_size) | present_rw);  // PML4[0] -> PDPT
    const std::size_t pds = pages - 2;
    for (std::size_t p = 0; p < pds; ++p) {
        entry(1, p, (gpa + (2 + p) * page_size) | present_rw);  // PDPT[p] -> PD p
        for (std::size_t i = 0; i < 512; ++i) {
            const std::uint64_t phys = p * pd_covers + i * large_page;
            if (phys >= bytes) break;
            entry(2 + p, i, phys | present_rw | large);
        }
    }
    return gpa;
}

namespace mode_detail {
inline kvm_segment flat_segment(std::uint16_t selector, std::uint8_t type, bool l, bool db) {
    kvm_segment s{};
    s.base = 0;
    s.limit = 0xffff'ffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.s = 1;
    s.g = 1;
    s.l = l;
    s.db = db;
    return s;
}
/// A busy TSS and an unusable LDT: what VM entry wants to see outside real mode.
inline void system_segments(kvm_sregs& s) {
    s.tr = kvm_segment{};
    s.tr.type = 0xb;
    s.tr.present = 1;
    s.tr.limit = 0x67;
    s.ldt = kvm_segment{};
    s.ldt.unusable = 1;
}
inline Result<std::span<std::uint8_t>> guest_bytes(const MemoryRegion& mem, std::uint64_t gpa, std::uint64_t len,
                                                  const char* what) {
    if (!mem.contains(gpa, len))
        return fail(what, ERANGE,
                    "gpa=" + trace::hex(gpa) + " len=" + trace::hex(len) + " is outside the memory at " +
                        trace::hex(mem.gpa) + " size=" + trace::hex(mem.size));
    return std::span<std::uint8_t>(mem.host + (gpa - mem.gpa), len);
}
inline Result<> set_ip(Vcpu& cpu, std::uint64_t rip, std::uint64_t rsp) {
    auto regs = cpu.regs();
    if (!regs) return unexpected<Error>(std::move(regs).error());
    regs->rip = rip;
    regs->rsp = rsp;
    regs->rflags = 0x2;  // bit 1 is always set; IF clear
    return cpu.set_regs(*regs);
}
}  // namespace mode_detail

/// Real mode at `entry` (below 1 MiB + 64 KiB): CS = entry >> 4 with IP = entry & 0xf,
/// the data and stack segments 0 with 64 KiB limits, SP = `sp`; paging, protection
/// and long mode off. The IVT is at 0 (IDTR base 0, limit 0x3ff).
inline Result<> enter_real_mode(Vcpu& cpu, std::uint32_t entry, std::uint16_t sp = 0xfff0) {
    if (entry >= 0x10'0000)
        return fail("enter_real_mode", EINVAL, "entry=" + trace::hex(entry) + " is above 1 MiB");
    auto s = cpu.sregs();
    if (!s) return unexpected<Error>(std::move(s).error());
    auto real = [](std::uint16_t selector, std::uint8_t type) {
        kvm_segment seg{};
        seg.selector = selector;
        seg.base = std::uint64_t{selector} << 4;
        seg.limit = 0xffff;
        seg.type = type;
        seg.present = 1;
        seg.s = 1;
        return seg;
    };
    s->cs = real(static_cast<std::uint16_t>(entry >> 4), 0xb);
    for (kvm_segment* d : {&s->ds, &s->es, &s->ss, &s->fs, &s->gs}) *d = real(0, 0x3);
    s->idt = {.base = 0, .limit = 0x3ff, .padding = {}};
    s->cr0 &= ~(cr0_pe | cr0_pg);
    s->cr4 &= ~cr4_pae;
    s->efer &= ~(efer_lme | efer_lma);
    if (auto r = cpu.set_sregs(*s); !r) return r;
    return mode_detail::set_ip(cpu, entry & 0xf, sp);
}

/// "Unreal mode": real mode whose CS is based at `code_base` (selector 0, IP 0, any
/// address, so a program needs no relocation) and whose data and stack segments are
/// flat from 0 with a 4 GiB limit, so 32-bit addresses reach MMIO above 1 MiB; RSP =
/// `sp`. What the tests and the examples run their small real-mode programs in.
/// Real-mode interrupts do not fit it (IRET reloads CS's base from its selector):
/// use enter_real_mode for a guest that takes them.
inline Result<> enter_unreal_mode(Vcpu& cpu, std::uint64_t code_base, std::uint64_t sp = 0xfff0) {
    auto s = cpu.sregs();
    if (!s) return unexpected<Error>(std::move(s).error());
    s->cs = mode_detail::flat_segment(0, 0xb, false, false);  // execute/read, accessed
    s->cs.base = code_base;
    for (kvm_segment* d : {&s->ds, &s->es, &s->ss, &s->fs, &s->gs})
        *d = mode_detail::flat_segment(0, 0x3, false, false);  // read/write, accessed
    if (auto r = cpu.set_sregs(*s); !r) return r;
    return mode_detail::set_ip(cpu, 0, sp);
}

/// 32-bit flat protected mode at `entry` with ESP = `stack`: CS 0x08 and the data
/// segments 0x10 from a GDT written at `gdt_gpa` (gdt_bytes) of `mem`; no paging.
inline Result<> enter_protected_mode(Vcpu& cpu, const MemoryRegion& mem, std::uint64_t gdt_gpa,
                                     std::uint32_t entry, std::uint32_t stack) {
    auto gdt = mode_detail::guest_bytes(mem, gdt_gpa, gdt_bytes, "enter_protected_mode");
    if (!gdt) return unexpected<Error>(std::move(gdt).error());
    write_flat_gdt(gdt->first<gdt_bytes>());
    auto s = cpu.sregs();
    if (!s) return unexpected<Error>(std::move(s).error());
    s->cs = mode_detail::flat_segment(code32_selector, 0xb, false, true);
    for (kvm_segment* d : {&s->ds, &s->es, &s->ss, &s->fs, &s->gs})
        *d = mode_detail::flat_segment(data_selector, 0x3, false, true);
    mode_detail::system_segments(*s);
    s->gdt = {.base = gdt_gpa, .limit = gdt_bytes - 1, .padding = {}};
    s->cr0 = (s->cr0 | cr0_pe | cr0_mp | cr0_et | cr0_ne) & ~(cr0_em | cr0_pg);
    s->cr4 = (s->cr4 | cr4_osfxsr | cr4_osxmmexcpt) & ~cr4_pae;
    s->efer &= ~(efer_lme | efer_lma);
    if (auto r = cpu.set_sregs(*s); !r) return r;
    return mode_detail::set_ip(cpu, entry, stack);
}

/// 64-bit long mode at `entry` with RSP = `stack`, the first `map_bytes` (default
/// 4 GiB: RAM and the MMIO below 4 GiB) identity mapped with 2 MiB pages. Writes
/// long_mode_table_bytes(map_bytes) at `tables_gpa` of `mem` (4 KiB aligned): a
/// page with the flat GDT (CS 0x18, data 0x10), then the PML4 (CR3), PDPT and PDs.
inline Result<> enter_long_mode(Vcpu& cpu, const MemoryRegion& mem, std::uint64_t tables_gpa, std::uint64_t entry,
                                std::uint64_t stack, std::uint64_t map_bytes = 4ull << 30) {
    auto area = mode_detail::guest_bytes(mem, tables_gpa, long_mode_table_bytes(map_bytes), "enter_long_mode");
    if (!area) return unexpected<Error>(std::move(area).error());
    std::memset(area->data(), 0, page_size);
    write_flat_gdt(area->first<gdt_bytes>());
    auto cr3 = build_identity_map(area->subspan(page_size), tables_gpa + page_size, map_bytes);
    if (!cr3) return unexpected<Error>(std::move(cr3).error());
    auto s = cpu.sregs();
    if (!s) return unexpected<Error>(std::move(s).error());
    s->cs = mode_detail::flat_segment(code64_selector, 0xb, true, false);
    for (kvm_segment* d : {&s->ds, &s->es, &s->ss, &s->fs, &s->gs})
        *d = mode_detail::flat_segment(data_selector, 0x3, false, true);
    mode_detail::system_segments(*s);
    s->gdt = {.base = tables_gpa, .limit = gdt_bytes - 1, .padding = {}};
    s->cr3 = *cr3;
    s->cr4 = s->cr4 | cr4_pae | cr4_osfxsr | cr4_osxmmexcpt;
    s->cr0 = (s->cr0 | cr0_pe | cr0_mp | cr0_et | cr0_ne | cr0_wp | cr0_pg) & ~cr0_em;
    s->efer |= efer_lme | efer_lma;
    if (auto r = cpu.set_sregs(*s); !r) return r;
    return mode_detail::set_ip(cpu, entry, stack);
}

}  // namespace x86
#endif
KVMXX_END_NAMESPACE
