// kvmxx/kvm_cap.hpp — `Cap`: KVM capabilities by name, for Kvm::check and Vm::check.
//
// Example [cap], built by tests/unit/doc_examples_test.cpp:
//
//     if (*kvm.check(kvmxx::Cap::IrqfdResample) == 0) { /* no level-triggered irqfds */ resample = false; }
//
// Values are the kernel's KVM_CAP_* numbers, written as numbers (they are kernel
// ABI) so that every capability of the newest kernel has a name even when the
// build's UAPI headers are older; tests/unit/cap_names_test.cpp checks them
// against the headers at hand. `static_cast<Cap>(n)` works for any other number.
// The table is generated: python3 cmake/gen_kvm_cap.py <linux/kvm.h of a new kernel>.
#pragma once

#include "config.hpp"

KVMXX_BEGIN_NAMESPACE

/// X(EnumName, "KVM_CAP_NAME", number) for every capability of Linux 7.3.
#define KVMXX_CAPS(X) \
    X(Irqchip, "KVM_CAP_IRQCHIP", 0) \
    X(Hlt, "KVM_CAP_HLT", 1) \
    X(MmuShadowCacheControl, "KVM_CAP_MMU_SHADOW_CACHE_CONTROL", 2) \
    X(UserMemory, "KVM_CAP_USER_MEMORY", 3) \
    X(SetTssAddr, "KVM_CAP_SET_TSS_ADDR", 4) \
    X(Vapic, "KVM_CAP_VAPIC", 6) \
    X(ExtCpuid, "KVM_CAP_EXT_CPUID", 7) \
    X(Clocksource, "KVM_CAP_CLOCKSOURCE", 8) \
    X(NrVcpus, "KVM_CAP_NR_VCPUS", 9) \
    X(NrMemslots, "KVM_CAP_NR_MEMSLOTS", 10) \
    X(Pit, "KVM_CAP_PIT", 11) \
    X(NopIoDelay, "KVM_CAP_NOP_IO_DELAY", 12) \
    X(PvMmu, "KVM_CAP_PV_MMU", 13) \
    X(MpState, "KVM_CAP_MP_STATE", 14) \
    X(CoalescedMmio, "KVM_CAP_COALESCED_MMIO", 15) \
    X(SyncMmu, "KVM_CAP_SYNC_MMU", 16) \
    X(Iommu, "KVM_CAP_IOMMU", 18) \
    X(DestroyMemoryRegionWorks, "KVM_CAP_DESTROY_MEMORY_REGION_WORKS", 21) \
    X(UserNmi, "KVM_CAP_USER_NMI", 22) \
    X(SetGuestDebug, "KVM_CAP_SET_GUEST_DEBUG", 23) \
    X(ReinjectControl, "KVM_CAP_REINJECT_CONTROL", 24) \
    X(IrqRouting, "KVM_CAP_IRQ_ROUTING", 25) \
    X(IrqInjectStatus, "KVM_CAP_IRQ_INJECT_STATUS", 26) \
    X(AssignDevIrq, "KVM_CAP_ASSIGN_DEV_IRQ", 29) \
    X(JoinMemoryRegionsWorks, "KVM_CAP_JOIN_MEMORY_REGIONS_WORKS", 30) \
    X(Mce, "KVM_CAP_MCE", 31) \
    X(Irqfd, "KVM_CAP_IRQFD", 32) \
    X(Pit2, "KVM_CAP_PIT2", 33) \
    X(SetBootCpuId, "KVM_CAP_SET_BOOT_CPU_ID", 34) \
    X(PitState2, "KVM_CAP_PIT_STATE2", 35) \
    X(Ioeventfd, "KVM_CAP_IOEVENTFD", 36) \
    X(SetIdentityMapAddr, "KVM_CAP_SET_IDENTITY_MAP_ADDR", 37) \
    X(XenHvm, "KVM_CAP_XEN_HVM", 38) \
    X(AdjustClock, "KVM_CAP_ADJUST_CLOCK", 39) \
    X(InternalErrorData, "KVM_CAP_INTERNAL_ERROR_DATA", 40) \
    X(VcpuEvents, "KVM_CAP_VCPU_EVENTS", 41) \
    X(S390Psw, "KVM_CAP_S390_PSW", 42) \
    X(PpcSegstate, "KVM_CAP_PPC_SEGSTATE", 43) \
    X(Hyperv, "KVM_CAP_HYPERV", 44) \
    X(HypervVapic, "KVM_CAP_HYPERV_VAPIC", 45) \
    X(HypervSpin, "KVM_CAP_HYPERV_SPIN", 46) \
    X(PciSegment, "KVM_CAP_PCI_SEGMENT", 47) \
    X(PpcPairedSingles, "KVM_CAP_PPC_PAIRED_SINGLES", 48) \
    X(IntrShadow, "KVM_CAP_INTR_SHADOW", 49) \
    X(Debugregs, "KVM_CAP_DEBUGREGS", 50) \
    X(X86RobustSinglestep, "KVM_CAP_X86_ROBUST_SINGLESTEP", 51) \
    X(PpcOsi, "KVM_CAP_PPC_OSI", 52) \
    X(PpcUnsetIrq, "KVM_CAP_PPC_UNSET_IRQ", 53) \
    X(EnableCap, "KVM_CAP_ENABLE_CAP", 54) \
    X(Xsave, "KVM_CAP_XSAVE", 55) \
    X(Xcrs, "KVM_CAP_XCRS", 56) \
    X(PpcGetPvinfo, "KVM_CAP_PPC_GET_PVINFO", 57) \
    X(PpcIrqLevel, "KVM_CAP_PPC_IRQ_LEVEL", 58) \
    X(AsyncPf, "KVM_CAP_ASYNC_PF", 59) \
    X(TscControl, "KVM_CAP_TSC_CONTROL", 60) \
    X(GetTscKhz, "KVM_CAP_GET_TSC_KHZ", 61) \
    X(PpcBookeSregs, "KVM_CAP_PPC_BOOKE_SREGS", 62) \
    X(SpaprTce, "KVM_CAP_SPAPR_TCE", 63) \
    X(PpcSmt, "KVM_CAP_PPC_SMT", 64) \
    X(PpcRma, "KVM_CAP_PPC_RMA", 65) \
    X(MaxVcpus, "KVM_CAP_MAX_VCPUS", 66) \
    X(PpcHior, "KVM_CAP_PPC_HIOR", 67) \
    X(PpcPapr, "KVM_CAP_PPC_PAPR", 68) \
    X(SwTlb, "KVM_CAP_SW_TLB", 69) \
    X(OneReg, "KVM_CAP_ONE_REG", 70) \
    X(S390Gmap, "KVM_CAP_S390_GMAP", 71) \
    X(TscDeadlineTimer, "KVM_CAP_TSC_DEADLINE_TIMER", 72) \
    X(S390Ucontrol, "KVM_CAP_S390_UCONTROL", 73) \
    X(SyncRegs, "KVM_CAP_SYNC_REGS", 74) \
    X(Pci23, "KVM_CAP_PCI_2_3", 75) \
    X(KvmclockCtrl, "KVM_CAP_KVMCLOCK_CTRL", 76) \
    X(SignalMsi, "KVM_CAP_SIGNAL_MSI", 77) \
    X(PpcGetSmmuInfo, "KVM_CAP_PPC_GET_SMMU_INFO", 78) \
    X(S390Cow, "KVM_CAP_S390_COW", 79) \
    X(PpcAllocHtab, "KVM_CAP_PPC_ALLOC_HTAB", 80) \
    X(ReadonlyMem, "KVM_CAP_READONLY_MEM", 81) \
    X(IrqfdResample, "KVM_CAP_IRQFD_RESAMPLE", 82) \
    X(PpcBookeWatchdog, "KVM_CAP_PPC_BOOKE_WATCHDOG", 83) \
    X(PpcHtabFd, "KVM_CAP_PPC_HTAB_FD", 84) \
    X(S390CssSupport, "KVM_CAP_S390_CSS_SUPPORT", 85) \
    X(PpcEpr, "KVM_CAP_PPC_EPR", 86) \
    X(ArmPsci, "KVM_CAP_ARM_PSCI", 87) \
    X(ArmSetDeviceAddr, "KVM_CAP_ARM_SET_DEVICE_ADDR", 88) \
    X(DeviceCtrl, "KVM_CAP_DEVICE_CTRL", 89) \
    X(IrqMpic, "KVM_CAP_IRQ_MPIC", 90) \
    X(PpcRtas, "KVM_CAP_PPC_RTAS", 91) \
    X(IrqXics, "KVM_CAP_IRQ_XICS", 92) \
    X(ArmEl132bit, "KVM_CAP_ARM_EL1_32BIT", 93) \
    X(SpaprMultitce, "KVM_CAP_SPAPR_MULTITCE", 94) \
    X(ExtEmulCpuid, "KVM_CAP_EXT_EMUL_CPUID", 95) \
    X(HypervTime, "KVM_CAP_HYPERV_TIME", 96) \
    X(IoapicPolarityIgnored, "KVM_CAP_IOAPIC_POLARITY_IGNORED", 97) \
    X(EnableCapVm, "KVM_CAP_ENABLE_CAP_VM", 98) \
    X(S390Irqchip, "KVM_CAP_S390_IRQCHIP", 99) \
    X(IoeventfdNoLength, "KVM_CAP_IOEVENTFD_NO_LENGTH", 100) \
    X(VmAttributes, "KVM_CAP_VM_ATTRIBUTES", 101) \
    X(ArmPsci02, "KVM_CAP_ARM_PSCI_0_2", 102) \
    X(PpcFixupHcall, "KVM_CAP_PPC_FIXUP_HCALL", 103) \
    X(PpcEnableHcall, "KVM_CAP_PPC_ENABLE_HCALL", 104) \
    X(CheckExtensionVm, "KVM_CAP_CHECK_EXTENSION_VM", 105) \
    X(S390UserSigp, "KVM_CAP_S390_USER_SIGP", 106) \
    X(S390VectorRegisters, "KVM_CAP_S390_VECTOR_REGISTERS", 107) \
    X(S390MemOp, "KVM_CAP_S390_MEM_OP", 108) \
    X(S390UserStsi, "KVM_CAP_S390_USER_STSI", 109) \
    X(S390Skeys, "KVM_CAP_S390_SKEYS", 110) \
    X(MipsFpu, "KVM_CAP_MIPS_FPU", 111) \
    X(MipsMsa, "KVM_CAP_MIPS_MSA", 112) \
    X(S390InjectIrq, "KVM_CAP_S390_INJECT_IRQ", 113) \
    X(S390IrqState, "KVM_CAP_S390_IRQ_STATE", 114) \
    X(PpcHwrng, "KVM_CAP_PPC_HWRNG", 115) \
    X(DisableQuirks, "KVM_CAP_DISABLE_QUIRKS", 116) \
    X(X86Smm, "KVM_CAP_X86_SMM", 117) \
    X(MultiAddressSpace, "KVM_CAP_MULTI_ADDRESS_SPACE", 118) \
    X(GuestDebugHwBps, "KVM_CAP_GUEST_DEBUG_HW_BPS", 119) \
    X(GuestDebugHwWps, "KVM_CAP_GUEST_DEBUG_HW_WPS", 120) \
    X(SplitIrqchip, "KVM_CAP_SPLIT_IRQCHIP", 121) \
    X(IoeventfdAnyLength, "KVM_CAP_IOEVENTFD_ANY_LENGTH", 122) \
    X(HypervSynic, "KVM_CAP_HYPERV_SYNIC", 123) \
    X(S390Ri, "KVM_CAP_S390_RI", 124) \
    X(SpaprTce64, "KVM_CAP_SPAPR_TCE_64", 125) \
    X(ArmPmuV3, "KVM_CAP_ARM_PMU_V3", 126) \
    X(VcpuAttributes, "KVM_CAP_VCPU_ATTRIBUTES", 127) \
    X(MaxVcpuId, "KVM_CAP_MAX_VCPU_ID", 128) \
    X(X2apicApi, "KVM_CAP_X2APIC_API", 129) \
    X(S390UserInstr0, "KVM_CAP_S390_USER_INSTR0", 130) \
    X(MsiDevid, "KVM_CAP_MSI_DEVID", 131) \
    X(PpcHtm, "KVM_CAP_PPC_HTM", 132) \
    X(SpaprResizeHpt, "KVM_CAP_SPAPR_RESIZE_HPT", 133) \
    X(PpcMmuRadix, "KVM_CAP_PPC_MMU_RADIX", 134) \
    X(PpcMmuHashV3, "KVM_CAP_PPC_MMU_HASH_V3", 135) \
    X(ImmediateExit, "KVM_CAP_IMMEDIATE_EXIT", 136) \
    X(MipsVz, "KVM_CAP_MIPS_VZ", 137) \
    X(MipsTe, "KVM_CAP_MIPS_TE", 138) \
    X(Mips64bit, "KVM_CAP_MIPS_64BIT", 139) \
    X(S390Gs, "KVM_CAP_S390_GS", 140) \
    X(S390Ais, "KVM_CAP_S390_AIS", 141) \
    X(SpaprTceVfio, "KVM_CAP_SPAPR_TCE_VFIO", 142) \
    X(X86DisableExits, "KVM_CAP_X86_DISABLE_EXITS", 143) \
    X(ArmUserIrq, "KVM_CAP_ARM_USER_IRQ", 144) \
    X(S390CmmaMigration, "KVM_CAP_S390_CMMA_MIGRATION", 145) \
    X(PpcFwnmi, "KVM_CAP_PPC_FWNMI", 146) \
    X(PpcSmtPossible, "KVM_CAP_PPC_SMT_POSSIBLE", 147) \
    X(HypervSynic2, "KVM_CAP_HYPERV_SYNIC2", 148) \
    X(HypervVpIndex, "KVM_CAP_HYPERV_VP_INDEX", 149) \
    X(S390AisMigration, "KVM_CAP_S390_AIS_MIGRATION", 150) \
    X(PpcGetCpuChar, "KVM_CAP_PPC_GET_CPU_CHAR", 151) \
    X(S390Bpb, "KVM_CAP_S390_BPB", 152) \
    X(GetMsrFeatures, "KVM_CAP_GET_MSR_FEATURES", 153) \
    X(HypervEventfd, "KVM_CAP_HYPERV_EVENTFD", 154) \
    X(HypervTlbflush, "KVM_CAP_HYPERV_TLBFLUSH", 155) \
    X(S390Hpage1m, "KVM_CAP_S390_HPAGE_1M", 156) \
    X(NestedState, "KVM_CAP_NESTED_STATE", 157) \
    X(ArmInjectSerrorEsr, "KVM_CAP_ARM_INJECT_SERROR_ESR", 158) \
    X(MsrPlatformInfo, "KVM_CAP_MSR_PLATFORM_INFO", 159) \
    X(PpcNestedHv, "KVM_CAP_PPC_NESTED_HV", 160) \
    X(HypervSendIpi, "KVM_CAP_HYPERV_SEND_IPI", 161) \
    X(CoalescedPio, "KVM_CAP_COALESCED_PIO", 162) \
    X(HypervEnlightenedVmcs, "KVM_CAP_HYPERV_ENLIGHTENED_VMCS", 163) \
    X(ExceptionPayload, "KVM_CAP_EXCEPTION_PAYLOAD", 164) \
    X(ArmVmIpaSize, "KVM_CAP_ARM_VM_IPA_SIZE", 165) \
    X(ManualDirtyLogProtect, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT", 166) \
    X(HypervCpuid, "KVM_CAP_HYPERV_CPUID", 167) \
    X(ManualDirtyLogProtect2, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2", 168) \
    X(PpcIrqXive, "KVM_CAP_PPC_IRQ_XIVE", 169) \
    X(ArmSve, "KVM_CAP_ARM_SVE", 170) \
    X(ArmPtrauthAddress, "KVM_CAP_ARM_PTRAUTH_ADDRESS", 171) \
    X(ArmPtrauthGeneric, "KVM_CAP_ARM_PTRAUTH_GENERIC", 172) \
    X(PmuEventFilter, "KVM_CAP_PMU_EVENT_FILTER", 173) \
    X(ArmIrqLineLayout2, "KVM_CAP_ARM_IRQ_LINE_LAYOUT_2", 174) \
    X(HypervDirectTlbflush, "KVM_CAP_HYPERV_DIRECT_TLBFLUSH", 175) \
    X(PpcGuestDebugSstep, "KVM_CAP_PPC_GUEST_DEBUG_SSTEP", 176) \
    X(ArmNisvToUser, "KVM_CAP_ARM_NISV_TO_USER", 177) \
    X(ArmInjectExtDabt, "KVM_CAP_ARM_INJECT_EXT_DABT", 178) \
    X(S390VcpuResets, "KVM_CAP_S390_VCPU_RESETS", 179) \
    X(S390Protected, "KVM_CAP_S390_PROTECTED", 180) \
    X(PpcSecureGuest, "KVM_CAP_PPC_SECURE_GUEST", 181) \
    X(HaltPoll, "KVM_CAP_HALT_POLL", 182) \
    X(AsyncPfInt, "KVM_CAP_ASYNC_PF_INT", 183) \
    X(LastCpu, "KVM_CAP_LAST_CPU", 184) \
    X(SmallerMaxphyaddr, "KVM_CAP_SMALLER_MAXPHYADDR", 185) \
    X(S390Diag318, "KVM_CAP_S390_DIAG318", 186) \
    X(StealTime, "KVM_CAP_STEAL_TIME", 187) \
    X(X86UserSpaceMsr, "KVM_CAP_X86_USER_SPACE_MSR", 188) \
    X(X86MsrFilter, "KVM_CAP_X86_MSR_FILTER", 189) \
    X(EnforcePvFeatureCpuid, "KVM_CAP_ENFORCE_PV_FEATURE_CPUID", 190) \
    X(SysHypervCpuid, "KVM_CAP_SYS_HYPERV_CPUID", 191) \
    X(DirtyLogRing, "KVM_CAP_DIRTY_LOG_RING", 192) \
    X(X86BusLockExit, "KVM_CAP_X86_BUS_LOCK_EXIT", 193) \
    X(PpcDawr1, "KVM_CAP_PPC_DAWR1", 194) \
    X(SetGuestDebug2, "KVM_CAP_SET_GUEST_DEBUG2", 195) \
    X(SgxAttribute, "KVM_CAP_SGX_ATTRIBUTE", 196) \
    X(VmCopyEncContextFrom, "KVM_CAP_VM_COPY_ENC_CONTEXT_FROM", 197) \
    X(PtpKvm, "KVM_CAP_PTP_KVM", 198) \
    X(HypervEnforceCpuid, "KVM_CAP_HYPERV_ENFORCE_CPUID", 199) \
    X(Sregs2, "KVM_CAP_SREGS2", 200) \
    X(ExitHypercall, "KVM_CAP_EXIT_HYPERCALL", 201) \
    X(PpcRptInvalidate, "KVM_CAP_PPC_RPT_INVALIDATE", 202) \
    X(BinaryStatsFd, "KVM_CAP_BINARY_STATS_FD", 203) \
    X(ExitOnEmulationFailure, "KVM_CAP_EXIT_ON_EMULATION_FAILURE", 204) \
    X(ArmMte, "KVM_CAP_ARM_MTE", 205) \
    X(VmMoveEncContextFrom, "KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM", 206) \
    X(VmGpaBits, "KVM_CAP_VM_GPA_BITS", 207) \
    X(Xsave2, "KVM_CAP_XSAVE2", 208) \
    X(SysAttributes, "KVM_CAP_SYS_ATTRIBUTES", 209) \
    X(PpcAilMode3, "KVM_CAP_PPC_AIL_MODE_3", 210) \
    X(S390MemOpExtension, "KVM_CAP_S390_MEM_OP_EXTENSION", 211) \
    X(PmuCapability, "KVM_CAP_PMU_CAPABILITY", 212) \
    X(DisableQuirks2, "KVM_CAP_DISABLE_QUIRKS2", 213) \
    X(VmTscControl, "KVM_CAP_VM_TSC_CONTROL", 214) \
    X(SystemEventData, "KVM_CAP_SYSTEM_EVENT_DATA", 215) \
    X(ArmSystemSuspend, "KVM_CAP_ARM_SYSTEM_SUSPEND", 216) \
    X(S390ProtectedDump, "KVM_CAP_S390_PROTECTED_DUMP", 217) \
    X(X86TripleFaultEvent, "KVM_CAP_X86_TRIPLE_FAULT_EVENT", 218) \
    X(X86NotifyVmexit, "KVM_CAP_X86_NOTIFY_VMEXIT", 219) \
    X(VmDisableNxHugePages, "KVM_CAP_VM_DISABLE_NX_HUGE_PAGES", 220) \
    X(S390ZpciOp, "KVM_CAP_S390_ZPCI_OP", 221) \
    X(S390CpuTopology, "KVM_CAP_S390_CPU_TOPOLOGY", 222) \
    X(DirtyLogRingAcqRel, "KVM_CAP_DIRTY_LOG_RING_ACQ_REL", 223) \
    X(S390ProtectedAsyncDisable, "KVM_CAP_S390_PROTECTED_ASYNC_DISABLE", 224) \
    X(DirtyLogRingWithBitmap, "KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP", 225) \
    X(PmuEventMaskedEvents, "KVM_CAP_PMU_EVENT_MASKED_EVENTS", 226) \
    X(CounterOffset, "KVM_CAP_COUNTER_OFFSET", 227) \
    X(ArmEagerSplitChunkSize, "KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE", 228) \
    X(ArmSupportedBlockSizes, "KVM_CAP_ARM_SUPPORTED_BLOCK_SIZES", 229) \
    X(ArmSupportedRegMaskRanges, "KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES", 230) \
    X(UserMemory2, "KVM_CAP_USER_MEMORY2", 231) \
    X(MemoryFaultInfo, "KVM_CAP_MEMORY_FAULT_INFO", 232) \
    X(MemoryAttributes, "KVM_CAP_MEMORY_ATTRIBUTES", 233) \
    X(GuestMemfd, "KVM_CAP_GUEST_MEMFD", 234) \
    X(VmTypes, "KVM_CAP_VM_TYPES", 235) \
    X(PreFaultMemory, "KVM_CAP_PRE_FAULT_MEMORY", 236) \
    X(X86ApicBusCyclesNs, "KVM_CAP_X86_APIC_BUS_CYCLES_NS", 237) \
    X(X86GuestMode, "KVM_CAP_X86_GUEST_MODE", 238) \
    X(ArmWritableImpIdRegs, "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS", 239) \
    X(ArmEl2, "KVM_CAP_ARM_EL2", 240) \
    X(ArmEl2E2h0, "KVM_CAP_ARM_EL2_E2H0", 241) \
    X(RiscvMpStateReset, "KVM_CAP_RISCV_MP_STATE_RESET", 242) \
    X(ArmCacheablePfnmapSupported, "KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED", 243) \
    X(GuestMemfdFlags, "KVM_CAP_GUEST_MEMFD_FLAGS", 244) \
    X(ArmSeaToUser, "KVM_CAP_ARM_SEA_TO_USER", 245) \
    X(S390UserOperexec, "KVM_CAP_S390_USER_OPEREXEC", 246) \
    X(S390Keyop, "KVM_CAP_S390_KEYOP", 247) \
    X(S390VsieEsamode, "KVM_CAP_S390_VSIE_ESAMODE", 248) \
    X(S390Hpage2g, "KVM_CAP_S390_HPAGE_2G", 249) \
    X(PpcCompatCaps, "KVM_CAP_PPC_COMPAT_CAPS", 250) \
    X(ArmPmuV3Strict, "KVM_CAP_ARM_PMU_V3_STRICT", 251) \

// end of KVMXX_CAPS

/// A KVM capability (KVM_CAP_*) by name: the argument of KVM_CHECK_EXTENSION
/// and KVM_ENABLE_CAP. One enumerator per entry of KVMXX_CAPS above.
enum class Cap : int {
#define KVMXX_CAP_ENUMERATOR(name, text, number) name = number,
    KVMXX_CAPS(KVMXX_CAP_ENUMERATOR)
#undef KVMXX_CAP_ENUMERATOR
};

/// "KVM_CAP_IRQFD" for Cap::Irqfd; "KVM_CAP_?" for a number no kernel has named (yet).
inline const char* cap_name(Cap cap) noexcept {
    switch (cap) {
#define KVMXX_CAP_CASE(name, text, number) \
    case Cap::name: return text;
        KVMXX_CAPS(KVMXX_CAP_CASE)
#undef KVMXX_CAP_CASE
    }
    return "KVM_CAP_?";
}

KVMXX_END_NAMESPACE
