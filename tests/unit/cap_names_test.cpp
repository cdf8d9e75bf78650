// Cap: every capability of the newest kernel has a name, and every number agrees
// with the UAPI headers the build has (whatever their age).
#include <kvmxx/kvm_cap.hpp>

#include <gtest/gtest.h>

#include <linux/kvm.h>

#include <set>
#include <string>
#include <string_view>

namespace {

using kvmxx::Cap;

// The generator (cmake/gen_kvm_cap.py) writes one check per capability: each one
// the build's headers know must have the headers' number.
// begin generated checks
#ifdef KVM_CAP_IRQCHIP
static_assert(static_cast<int>(Cap::Irqchip) == KVM_CAP_IRQCHIP);
#endif
#ifdef KVM_CAP_HLT
static_assert(static_cast<int>(Cap::Hlt) == KVM_CAP_HLT);
#endif
#ifdef KVM_CAP_MMU_SHADOW_CACHE_CONTROL
static_assert(static_cast<int>(Cap::MmuShadowCacheControl) == KVM_CAP_MMU_SHADOW_CACHE_CONTROL);
#endif
#ifdef KVM_CAP_USER_MEMORY
static_assert(static_cast<int>(Cap::UserMemory) == KVM_CAP_USER_MEMORY);
#endif
#ifdef KVM_CAP_SET_TSS_ADDR
static_assert(static_cast<int>(Cap::SetTssAddr) == KVM_CAP_SET_TSS_ADDR);
#endif
#ifdef KVM_CAP_VAPIC
static_assert(static_cast<int>(Cap::Vapic) == KVM_CAP_VAPIC);
#endif
#ifdef KVM_CAP_EXT_CPUID
static_assert(static_cast<int>(Cap::ExtCpuid) == KVM_CAP_EXT_CPUID);
#endif
#ifdef KVM_CAP_CLOCKSOURCE
static_assert(static_cast<int>(Cap::Clocksource) == KVM_CAP_CLOCKSOURCE);
#endif
#ifdef KVM_CAP_NR_VCPUS
static_assert(static_cast<int>(Cap::NrVcpus) == KVM_CAP_NR_VCPUS);
#endif
#ifdef KVM_CAP_NR_MEMSLOTS
static_assert(static_cast<int>(Cap::NrMemslots) == KVM_CAP_NR_MEMSLOTS);
#endif
#ifdef KVM_CAP_PIT
static_assert(static_cast<int>(Cap::Pit) == KVM_CAP_PIT);
#endif
#ifdef KVM_CAP_NOP_IO_DELAY
static_assert(static_cast<int>(Cap::NopIoDelay) == KVM_CAP_NOP_IO_DELAY);
#endif
#ifdef KVM_CAP_PV_MMU
static_assert(static_cast<int>(Cap::PvMmu) == KVM_CAP_PV_MMU);
#endif
#ifdef KVM_CAP_MP_STATE
static_assert(static_cast<int>(Cap::MpState) == KVM_CAP_MP_STATE);
#endif
#ifdef KVM_CAP_COALESCED_MMIO
static_assert(static_cast<int>(Cap::CoalescedMmio) == KVM_CAP_COALESCED_MMIO);
#endif
#ifdef KVM_CAP_SYNC_MMU
static_assert(static_cast<int>(Cap::SyncMmu) == KVM_CAP_SYNC_MMU);
#endif
#ifdef KVM_CAP_IOMMU
static_assert(static_cast<int>(Cap::Iommu) == KVM_CAP_IOMMU);
#endif
#ifdef KVM_CAP_DESTROY_MEMORY_REGION_WORKS
static_assert(static_cast<int>(Cap::DestroyMemoryRegionWorks) == KVM_CAP_DESTROY_MEMORY_REGION_WORKS);
#endif
#ifdef KVM_CAP_USER_NMI
static_assert(static_cast<int>(Cap::UserNmi) == KVM_CAP_USER_NMI);
#endif
#ifdef KVM_CAP_SET_GUEST_DEBUG
static_assert(static_cast<int>(Cap::SetGuestDebug) == KVM_CAP_SET_GUEST_DEBUG);
#endif
#ifdef KVM_CAP_REINJECT_CONTROL
static_assert(static_cast<int>(Cap::ReinjectControl) == KVM_CAP_REINJECT_CONTROL);
#endif
#ifdef KVM_CAP_IRQ_ROUTING
static_assert(static_cast<int>(Cap::IrqRouting) == KVM_CAP_IRQ_ROUTING);
#endif
#ifdef KVM_CAP_IRQ_INJECT_STATUS
static_assert(static_cast<int>(Cap::IrqInjectStatus) == KVM_CAP_IRQ_INJECT_STATUS);
#endif
#ifdef KVM_CAP_ASSIGN_DEV_IRQ
static_assert(static_cast<int>(Cap::AssignDevIrq) == KVM_CAP_ASSIGN_DEV_IRQ);
#endif
#ifdef KVM_CAP_JOIN_MEMORY_REGIONS_WORKS
static_assert(static_cast<int>(Cap::JoinMemoryRegionsWorks) == KVM_CAP_JOIN_MEMORY_REGIONS_WORKS);
#endif
#ifdef KVM_CAP_MCE
static_assert(static_cast<int>(Cap::Mce) == KVM_CAP_MCE);
#endif
#ifdef KVM_CAP_IRQFD
static_assert(static_cast<int>(Cap::Irqfd) == KVM_CAP_IRQFD);
#endif
#ifdef KVM_CAP_PIT2
static_assert(static_cast<int>(Cap::Pit2) == KVM_CAP_PIT2);
#endif
#ifdef KVM_CAP_SET_BOOT_CPU_ID
static_assert(static_cast<int>(Cap::SetBootCpuId) == KVM_CAP_SET_BOOT_CPU_ID);
#endif
#ifdef KVM_CAP_PIT_STATE2
static_assert(static_cast<int>(Cap::PitState2) == KVM_CAP_PIT_STATE2);
#endif
#ifdef KVM_CAP_IOEVENTFD
static_assert(static_cast<int>(Cap::Ioeventfd) == KVM_CAP_IOEVENTFD);
#endif
#ifdef KVM_CAP_SET_IDENTITY_MAP_ADDR
static_assert(static_cast<int>(Cap::SetIdentityMapAddr) == KVM_CAP_SET_IDENTITY_MAP_ADDR);
#endif
#ifdef KVM_CAP_XEN_HVM
static_assert(static_cast<int>(Cap::XenHvm) == KVM_CAP_XEN_HVM);
#endif
#ifdef KVM_CAP_ADJUST_CLOCK
static_assert(static_cast<int>(Cap::AdjustClock) == KVM_CAP_ADJUST_CLOCK);
#endif
#ifdef KVM_CAP_INTERNAL_ERROR_DATA
static_assert(static_cast<int>(Cap::InternalErrorData) == KVM_CAP_INTERNAL_ERROR_DATA);
#endif
#ifdef KVM_CAP_VCPU_EVENTS
static_assert(static_cast<int>(Cap::VcpuEvents) == KVM_CAP_VCPU_EVENTS);
#endif
#ifdef KVM_CAP_S390_PSW
static_assert(static_cast<int>(Cap::S390Psw) == KVM_CAP_S390_PSW);
#endif
#ifdef KVM_CAP_PPC_SEGSTATE
static_assert(static_cast<int>(Cap::PpcSegstate) == KVM_CAP_PPC_SEGSTATE);
#endif
#ifdef KVM_CAP_HYPERV
static_assert(static_cast<int>(Cap::Hyperv) == KVM_CAP_HYPERV);
#endif
#ifdef KVM_CAP_HYPERV_VAPIC
static_assert(static_cast<int>(Cap::HypervVapic) == KVM_CAP_HYPERV_VAPIC);
#endif
#ifdef KVM_CAP_HYPERV_SPIN
static_assert(static_cast<int>(Cap::HypervSpin) == KVM_CAP_HYPERV_SPIN);
#endif
#ifdef KVM_CAP_PCI_SEGMENT
static_assert(static_cast<int>(Cap::PciSegment) == KVM_CAP_PCI_SEGMENT);
#endif
#ifdef KVM_CAP_PPC_PAIRED_SINGLES
static_assert(static_cast<int>(Cap::PpcPairedSingles) == KVM_CAP_PPC_PAIRED_SINGLES);
#endif
#ifdef KVM_CAP_INTR_SHADOW
static_assert(static_cast<int>(Cap::IntrShadow) == KVM_CAP_INTR_SHADOW);
#endif
#ifdef KVM_CAP_DEBUGREGS
static_assert(static_cast<int>(Cap::Debugregs) == KVM_CAP_DEBUGREGS);
#endif
#ifdef KVM_CAP_X86_ROBUST_SINGLESTEP
static_assert(static_cast<int>(Cap::X86RobustSinglestep) == KVM_CAP_X86_ROBUST_SINGLESTEP);
#endif
#ifdef KVM_CAP_PPC_OSI
static_assert(static_cast<int>(Cap::PpcOsi) == KVM_CAP_PPC_OSI);
#endif
#ifdef KVM_CAP_PPC_UNSET_IRQ
static_assert(static_cast<int>(Cap::PpcUnsetIrq) == KVM_CAP_PPC_UNSET_IRQ);
#endif
#ifdef KVM_CAP_ENABLE_CAP
static_assert(static_cast<int>(Cap::EnableCap) == KVM_CAP_ENABLE_CAP);
#endif
#ifdef KVM_CAP_XSAVE
static_assert(static_cast<int>(Cap::Xsave) == KVM_CAP_XSAVE);
#endif
#ifdef KVM_CAP_XCRS
static_assert(static_cast<int>(Cap::Xcrs) == KVM_CAP_XCRS);
#endif
#ifdef KVM_CAP_PPC_GET_PVINFO
static_assert(static_cast<int>(Cap::PpcGetPvinfo) == KVM_CAP_PPC_GET_PVINFO);
#endif
#ifdef KVM_CAP_PPC_IRQ_LEVEL
static_assert(static_cast<int>(Cap::PpcIrqLevel) == KVM_CAP_PPC_IRQ_LEVEL);
#endif
#ifdef KVM_CAP_ASYNC_PF
static_assert(static_cast<int>(Cap::AsyncPf) == KVM_CAP_ASYNC_PF);
#endif
#ifdef KVM_CAP_TSC_CONTROL
static_assert(static_cast<int>(Cap::TscControl) == KVM_CAP_TSC_CONTROL);
#endif
#ifdef KVM_CAP_GET_TSC_KHZ
static_assert(static_cast<int>(Cap::GetTscKhz) == KVM_CAP_GET_TSC_KHZ);
#endif
#ifdef KVM_CAP_PPC_BOOKE_SREGS
static_assert(static_cast<int>(Cap::PpcBookeSregs) == KVM_CAP_PPC_BOOKE_SREGS);
#endif
#ifdef KVM_CAP_SPAPR_TCE
static_assert(static_cast<int>(Cap::SpaprTce) == KVM_CAP_SPAPR_TCE);
#endif
#ifdef KVM_CAP_PPC_SMT
static_assert(static_cast<int>(Cap::PpcSmt) == KVM_CAP_PPC_SMT);
#endif
#ifdef KVM_CAP_PPC_RMA
static_assert(static_cast<int>(Cap::PpcRma) == KVM_CAP_PPC_RMA);
#endif
#ifdef KVM_CAP_MAX_VCPUS
static_assert(static_cast<int>(Cap::MaxVcpus) == KVM_CAP_MAX_VCPUS);
#endif
#ifdef KVM_CAP_PPC_HIOR
static_assert(static_cast<int>(Cap::PpcHior) == KVM_CAP_PPC_HIOR);
#endif
#ifdef KVM_CAP_PPC_PAPR
static_assert(static_cast<int>(Cap::PpcPapr) == KVM_CAP_PPC_PAPR);
#endif
#ifdef KVM_CAP_SW_TLB
static_assert(static_cast<int>(Cap::SwTlb) == KVM_CAP_SW_TLB);
#endif
#ifdef KVM_CAP_ONE_REG
static_assert(static_cast<int>(Cap::OneReg) == KVM_CAP_ONE_REG);
#endif
#ifdef KVM_CAP_S390_GMAP
static_assert(static_cast<int>(Cap::S390Gmap) == KVM_CAP_S390_GMAP);
#endif
#ifdef KVM_CAP_TSC_DEADLINE_TIMER
static_assert(static_cast<int>(Cap::TscDeadlineTimer) == KVM_CAP_TSC_DEADLINE_TIMER);
#endif
#ifdef KVM_CAP_S390_UCONTROL
static_assert(static_cast<int>(Cap::S390Ucontrol) == KVM_CAP_S390_UCONTROL);
#endif
#ifdef KVM_CAP_SYNC_REGS
static_assert(static_cast<int>(Cap::SyncRegs) == KVM_CAP_SYNC_REGS);
#endif
#ifdef KVM_CAP_PCI_2_3
static_assert(static_cast<int>(Cap::Pci23) == KVM_CAP_PCI_2_3);
#endif
#ifdef KVM_CAP_KVMCLOCK_CTRL
static_assert(static_cast<int>(Cap::KvmclockCtrl) == KVM_CAP_KVMCLOCK_CTRL);
#endif
#ifdef KVM_CAP_SIGNAL_MSI
static_assert(static_cast<int>(Cap::SignalMsi) == KVM_CAP_SIGNAL_MSI);
#endif
#ifdef KVM_CAP_PPC_GET_SMMU_INFO
static_assert(static_cast<int>(Cap::PpcGetSmmuInfo) == KVM_CAP_PPC_GET_SMMU_INFO);
#endif
#ifdef KVM_CAP_S390_COW
static_assert(static_cast<int>(Cap::S390Cow) == KVM_CAP_S390_COW);
#endif
#ifdef KVM_CAP_PPC_ALLOC_HTAB
static_assert(static_cast<int>(Cap::PpcAllocHtab) == KVM_CAP_PPC_ALLOC_HTAB);
#endif
#ifdef KVM_CAP_READONLY_MEM
static_assert(static_cast<int>(Cap::ReadonlyMem) == KVM_CAP_READONLY_MEM);
#endif
#ifdef KVM_CAP_IRQFD_RESAMPLE
static_assert(static_cast<int>(Cap::IrqfdResample) == KVM_CAP_IRQFD_RESAMPLE);
#endif
#ifdef KVM_CAP_PPC_BOOKE_WATCHDOG
static_assert(static_cast<int>(Cap::PpcBookeWatchdog) == KVM_CAP_PPC_BOOKE_WATCHDOG);
#endif
#ifdef KVM_CAP_PPC_HTAB_FD
static_assert(static_cast<int>(Cap::PpcHtabFd) == KVM_CAP_PPC_HTAB_FD);
#endif
#ifdef KVM_CAP_S390_CSS_SUPPORT
static_assert(static_cast<int>(Cap::S390CssSupport) == KVM_CAP_S390_CSS_SUPPORT);
#endif
#ifdef KVM_CAP_PPC_EPR
static_assert(static_cast<int>(Cap::PpcEpr) == KVM_CAP_PPC_EPR);
#endif
#ifdef KVM_CAP_ARM_PSCI
static_assert(static_cast<int>(Cap::ArmPsci) == KVM_CAP_ARM_PSCI);
#endif
#ifdef KVM_CAP_ARM_SET_DEVICE_ADDR
static_assert(static_cast<int>(Cap::ArmSetDeviceAddr) == KVM_CAP_ARM_SET_DEVICE_ADDR);
#endif
#ifdef KVM_CAP_DEVICE_CTRL
static_assert(static_cast<int>(Cap::DeviceCtrl) == KVM_CAP_DEVICE_CTRL);
#endif
#ifdef KVM_CAP_IRQ_MPIC
static_assert(static_cast<int>(Cap::IrqMpic) == KVM_CAP_IRQ_MPIC);
#endif
#ifdef KVM_CAP_PPC_RTAS
static_assert(static_cast<int>(Cap::PpcRtas) == KVM_CAP_PPC_RTAS);
#endif
#ifdef KVM_CAP_IRQ_XICS
static_assert(static_cast<int>(Cap::IrqXics) == KVM_CAP_IRQ_XICS);
#endif
#ifdef KVM_CAP_ARM_EL1_32BIT
static_assert(static_cast<int>(Cap::ArmEl132bit) == KVM_CAP_ARM_EL1_32BIT);
#endif
#ifdef KVM_CAP_SPAPR_MULTITCE
static_assert(static_cast<int>(Cap::SpaprMultitce) == KVM_CAP_SPAPR_MULTITCE);
#endif
#ifdef KVM_CAP_EXT_EMUL_CPUID
static_assert(static_cast<int>(Cap::ExtEmulCpuid) == KVM_CAP_EXT_EMUL_CPUID);
#endif
#ifdef KVM_CAP_HYPERV_TIME
static_assert(static_cast<int>(Cap::HypervTime) == KVM_CAP_HYPERV_TIME);
#endif
#ifdef KVM_CAP_IOAPIC_POLARITY_IGNORED
static_assert(static_cast<int>(Cap::IoapicPolarityIgnored) == KVM_CAP_IOAPIC_POLARITY_IGNORED);
#endif
#ifdef KVM_CAP_ENABLE_CAP_VM
static_assert(static_cast<int>(Cap::EnableCapVm) == KVM_CAP_ENABLE_CAP_VM);
#endif
#ifdef KVM_CAP_S390_IRQCHIP
static_assert(static_cast<int>(Cap::S390Irqchip) == KVM_CAP_S390_IRQCHIP);
#endif
#ifdef KVM_CAP_IOEVENTFD_NO_LENGTH
static_assert(static_cast<int>(Cap::IoeventfdNoLength) == KVM_CAP_IOEVENTFD_NO_LENGTH);
#endif
#ifdef KVM_CAP_VM_ATTRIBUTES
static_assert(static_cast<int>(Cap::VmAttributes) == KVM_CAP_VM_ATTRIBUTES);
#endif
#ifdef KVM_CAP_ARM_PSCI_0_2
static_assert(static_cast<int>(Cap::ArmPsci02) == KVM_CAP_ARM_PSCI_0_2);
#endif
#ifdef KVM_CAP_PPC_FIXUP_HCALL
static_assert(static_cast<int>(Cap::PpcFixupHcall) == KVM_CAP_PPC_FIXUP_HCALL);
#endif
#ifdef KVM_CAP_PPC_ENABLE_HCALL
static_assert(static_cast<int>(Cap::PpcEnableHcall) == KVM_CAP_PPC_ENABLE_HCALL);
#endif
#ifdef KVM_CAP_CHECK_EXTENSION_VM
static_assert(static_cast<int>(Cap::CheckExtensionVm) == KVM_CAP_CHECK_EXTENSION_VM);
#endif
#ifdef KVM_CAP_S390_USER_SIGP
static_assert(static_cast<int>(Cap::S390UserSigp) == KVM_CAP_S390_USER_SIGP);
#endif
#ifdef KVM_CAP_S390_VECTOR_REGISTERS
static_assert(static_cast<int>(Cap::S390VectorRegisters) == KVM_CAP_S390_VECTOR_REGISTERS);
#endif
#ifdef KVM_CAP_S390_MEM_OP
static_assert(static_cast<int>(Cap::S390MemOp) == KVM_CAP_S390_MEM_OP);
#endif
#ifdef KVM_CAP_S390_USER_STSI
static_assert(static_cast<int>(Cap::S390UserStsi) == KVM_CAP_S390_USER_STSI);
#endif
#ifdef KVM_CAP_S390_SKEYS
static_assert(static_cast<int>(Cap::S390Skeys) == KVM_CAP_S390_SKEYS);
#endif
#ifdef KVM_CAP_MIPS_FPU
static_assert(static_cast<int>(Cap::MipsFpu) == KVM_CAP_MIPS_FPU);
#endif
#ifdef KVM_CAP_MIPS_MSA
static_assert(static_cast<int>(Cap::MipsMsa) == KVM_CAP_MIPS_MSA);
#endif
#ifdef KVM_CAP_S390_INJECT_IRQ
static_assert(static_cast<int>(Cap::S390InjectIrq) == KVM_CAP_S390_INJECT_IRQ);
#endif
#ifdef KVM_CAP_S390_IRQ_STATE
static_assert(static_cast<int>(Cap::S390IrqState) == KVM_CAP_S390_IRQ_STATE);
#endif
#ifdef KVM_CAP_PPC_HWRNG
static_assert(static_cast<int>(Cap::PpcHwrng) == KVM_CAP_PPC_HWRNG);
#endif
#ifdef KVM_CAP_DISABLE_QUIRKS
static_assert(static_cast<int>(Cap::DisableQuirks) == KVM_CAP_DISABLE_QUIRKS);
#endif
#ifdef KVM_CAP_X86_SMM
static_assert(static_cast<int>(Cap::X86Smm) == KVM_CAP_X86_SMM);
#endif
#ifdef KVM_CAP_MULTI_ADDRESS_SPACE
static_assert(static_cast<int>(Cap::MultiAddressSpace) == KVM_CAP_MULTI_ADDRESS_SPACE);
#endif
#ifdef KVM_CAP_GUEST_DEBUG_HW_BPS
static_assert(static_cast<int>(Cap::GuestDebugHwBps) == KVM_CAP_GUEST_DEBUG_HW_BPS);
#endif
#ifdef KVM_CAP_GUEST_DEBUG_HW_WPS
static_assert(static_cast<int>(Cap::GuestDebugHwWps) == KVM_CAP_GUEST_DEBUG_HW_WPS);
#endif
#ifdef KVM_CAP_SPLIT_IRQCHIP
static_assert(static_cast<int>(Cap::SplitIrqchip) == KVM_CAP_SPLIT_IRQCHIP);
#endif
#ifdef KVM_CAP_IOEVENTFD_ANY_LENGTH
static_assert(static_cast<int>(Cap::IoeventfdAnyLength) == KVM_CAP_IOEVENTFD_ANY_LENGTH);
#endif
#ifdef KVM_CAP_HYPERV_SYNIC
static_assert(static_cast<int>(Cap::HypervSynic) == KVM_CAP_HYPERV_SYNIC);
#endif
#ifdef KVM_CAP_S390_RI
static_assert(static_cast<int>(Cap::S390Ri) == KVM_CAP_S390_RI);
#endif
#ifdef KVM_CAP_SPAPR_TCE_64
static_assert(static_cast<int>(Cap::SpaprTce64) == KVM_CAP_SPAPR_TCE_64);
#endif
#ifdef KVM_CAP_ARM_PMU_V3
static_assert(static_cast<int>(Cap::ArmPmuV3) == KVM_CAP_ARM_PMU_V3);
#endif
#ifdef KVM_CAP_VCPU_ATTRIBUTES
static_assert(static_cast<int>(Cap::VcpuAttributes) == KVM_CAP_VCPU_ATTRIBUTES);
#endif
#ifdef KVM_CAP_MAX_VCPU_ID
static_assert(static_cast<int>(Cap::MaxVcpuId) == KVM_CAP_MAX_VCPU_ID);
#endif
#ifdef KVM_CAP_X2APIC_API
static_assert(static_cast<int>(Cap::X2apicApi) == KVM_CAP_X2APIC_API);
#endif
#ifdef KVM_CAP_S390_USER_INSTR0
static_assert(static_cast<int>(Cap::S390UserInstr0) == KVM_CAP_S390_USER_INSTR0);
#endif
#ifdef KVM_CAP_MSI_DEVID
static_assert(static_cast<int>(Cap::MsiDevid) == KVM_CAP_MSI_DEVID);
#endif
#ifdef KVM_CAP_PPC_HTM
static_assert(static_cast<int>(Cap::PpcHtm) == KVM_CAP_PPC_HTM);
#endif
#ifdef KVM_CAP_SPAPR_RESIZE_HPT
static_assert(static_cast<int>(Cap::SpaprResizeHpt) == KVM_CAP_SPAPR_RESIZE_HPT);
#endif
#ifdef KVM_CAP_PPC_MMU_RADIX
static_assert(static_cast<int>(Cap::PpcMmuRadix) == KVM_CAP_PPC_MMU_RADIX);
#endif
#ifdef KVM_CAP_PPC_MMU_HASH_V3
static_assert(static_cast<int>(Cap::PpcMmuHashV3) == KVM_CAP_PPC_MMU_HASH_V3);
#endif
#ifdef KVM_CAP_IMMEDIATE_EXIT
static_assert(static_cast<int>(Cap::ImmediateExit) == KVM_CAP_IMMEDIATE_EXIT);
#endif
#ifdef KVM_CAP_MIPS_VZ
static_assert(static_cast<int>(Cap::MipsVz) == KVM_CAP_MIPS_VZ);
#endif
#ifdef KVM_CAP_MIPS_TE
static_assert(static_cast<int>(Cap::MipsTe) == KVM_CAP_MIPS_TE);
#endif
#ifdef KVM_CAP_MIPS_64BIT
static_assert(static_cast<int>(Cap::Mips64bit) == KVM_CAP_MIPS_64BIT);
#endif
#ifdef KVM_CAP_S390_GS
static_assert(static_cast<int>(Cap::S390Gs) == KVM_CAP_S390_GS);
#endif
#ifdef KVM_CAP_S390_AIS
static_assert(static_cast<int>(Cap::S390Ais) == KVM_CAP_S390_AIS);
#endif
#ifdef KVM_CAP_SPAPR_TCE_VFIO
static_assert(static_cast<int>(Cap::SpaprTceVfio) == KVM_CAP_SPAPR_TCE_VFIO);
#endif
#ifdef KVM_CAP_X86_DISABLE_EXITS
static_assert(static_cast<int>(Cap::X86DisableExits) == KVM_CAP_X86_DISABLE_EXITS);
#endif
#ifdef KVM_CAP_ARM_USER_IRQ
static_assert(static_cast<int>(Cap::ArmUserIrq) == KVM_CAP_ARM_USER_IRQ);
#endif
#ifdef KVM_CAP_S390_CMMA_MIGRATION
static_assert(static_cast<int>(Cap::S390CmmaMigration) == KVM_CAP_S390_CMMA_MIGRATION);
#endif
#ifdef KVM_CAP_PPC_FWNMI
static_assert(static_cast<int>(Cap::PpcFwnmi) == KVM_CAP_PPC_FWNMI);
#endif
#ifdef KVM_CAP_PPC_SMT_POSSIBLE
static_assert(static_cast<int>(Cap::PpcSmtPossible) == KVM_CAP_PPC_SMT_POSSIBLE);
#endif
#ifdef KVM_CAP_HYPERV_SYNIC2
static_assert(static_cast<int>(Cap::HypervSynic2) == KVM_CAP_HYPERV_SYNIC2);
#endif
#ifdef KVM_CAP_HYPERV_VP_INDEX
static_assert(static_cast<int>(Cap::HypervVpIndex) == KVM_CAP_HYPERV_VP_INDEX);
#endif
#ifdef KVM_CAP_S390_AIS_MIGRATION
static_assert(static_cast<int>(Cap::S390AisMigration) == KVM_CAP_S390_AIS_MIGRATION);
#endif
#ifdef KVM_CAP_PPC_GET_CPU_CHAR
static_assert(static_cast<int>(Cap::PpcGetCpuChar) == KVM_CAP_PPC_GET_CPU_CHAR);
#endif
#ifdef KVM_CAP_S390_BPB
static_assert(static_cast<int>(Cap::S390Bpb) == KVM_CAP_S390_BPB);
#endif
#ifdef KVM_CAP_GET_MSR_FEATURES
static_assert(static_cast<int>(Cap::GetMsrFeatures) == KVM_CAP_GET_MSR_FEATURES);
#endif
#ifdef KVM_CAP_HYPERV_EVENTFD
static_assert(static_cast<int>(Cap::HypervEventfd) == KVM_CAP_HYPERV_EVENTFD);
#endif
#ifdef KVM_CAP_HYPERV_TLBFLUSH
static_assert(static_cast<int>(Cap::HypervTlbflush) == KVM_CAP_HYPERV_TLBFLUSH);
#endif
#ifdef KVM_CAP_S390_HPAGE_1M
static_assert(static_cast<int>(Cap::S390Hpage1m) == KVM_CAP_S390_HPAGE_1M);
#endif
#ifdef KVM_CAP_NESTED_STATE
static_assert(static_cast<int>(Cap::NestedState) == KVM_CAP_NESTED_STATE);
#endif
#ifdef KVM_CAP_ARM_INJECT_SERROR_ESR
static_assert(static_cast<int>(Cap::ArmInjectSerrorEsr) == KVM_CAP_ARM_INJECT_SERROR_ESR);
#endif
#ifdef KVM_CAP_MSR_PLATFORM_INFO
static_assert(static_cast<int>(Cap::MsrPlatformInfo) == KVM_CAP_MSR_PLATFORM_INFO);
#endif
#ifdef KVM_CAP_PPC_NESTED_HV
static_assert(static_cast<int>(Cap::PpcNestedHv) == KVM_CAP_PPC_NESTED_HV);
#endif
#ifdef KVM_CAP_HYPERV_SEND_IPI
static_assert(static_cast<int>(Cap::HypervSendIpi) == KVM_CAP_HYPERV_SEND_IPI);
#endif
#ifdef KVM_CAP_COALESCED_PIO
static_assert(static_cast<int>(Cap::CoalescedPio) == KVM_CAP_COALESCED_PIO);
#endif
#ifdef KVM_CAP_HYPERV_ENLIGHTENED_VMCS
static_assert(static_cast<int>(Cap::HypervEnlightenedVmcs) == KVM_CAP_HYPERV_ENLIGHTENED_VMCS);
#endif
#ifdef KVM_CAP_EXCEPTION_PAYLOAD
static_assert(static_cast<int>(Cap::ExceptionPayload) == KVM_CAP_EXCEPTION_PAYLOAD);
#endif
#ifdef KVM_CAP_ARM_VM_IPA_SIZE
static_assert(static_cast<int>(Cap::ArmVmIpaSize) == KVM_CAP_ARM_VM_IPA_SIZE);
#endif
#ifdef KVM_CAP_MANUAL_DIRTY_LOG_PROTECT
static_assert(static_cast<int>(Cap::ManualDirtyLogProtect) == KVM_CAP_MANUAL_DIRTY_LOG_PROTECT);
#endif
#ifdef KVM_CAP_HYPERV_CPUID
static_assert(static_cast<int>(Cap::HypervCpuid) == KVM_CAP_HYPERV_CPUID);
#endif
#ifdef KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2
static_assert(static_cast<int>(Cap::ManualDirtyLogProtect2) == KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
#endif
#ifdef KVM_CAP_PPC_IRQ_XIVE
static_assert(static_cast<int>(Cap::PpcIrqXive) == KVM_CAP_PPC_IRQ_XIVE);
#endif
#ifdef KVM_CAP_ARM_SVE
static_assert(static_cast<int>(Cap::ArmSve) == KVM_CAP_ARM_SVE);
#endif
#ifdef KVM_CAP_ARM_PTRAUTH_ADDRESS
static_assert(static_cast<int>(Cap::ArmPtrauthAddress) == KVM_CAP_ARM_PTRAUTH_ADDRESS);
#endif
#ifdef KVM_CAP_ARM_PTRAUTH_GENERIC
static_assert(static_cast<int>(Cap::ArmPtrauthGeneric) == KVM_CAP_ARM_PTRAUTH_GENERIC);
#endif
#ifdef KVM_CAP_PMU_EVENT_FILTER
static_assert(static_cast<int>(Cap::PmuEventFilter) == KVM_CAP_PMU_EVENT_FILTER);
#endif
#ifdef KVM_CAP_ARM_IRQ_LINE_LAYOUT_2
static_assert(static_cast<int>(Cap::ArmIrqLineLayout2) == KVM_CAP_ARM_IRQ_LINE_LAYOUT_2);
#endif
#ifdef KVM_CAP_HYPERV_DIRECT_TLBFLUSH
static_assert(static_cast<int>(Cap::HypervDirectTlbflush) == KVM_CAP_HYPERV_DIRECT_TLBFLUSH);
#endif
#ifdef KVM_CAP_PPC_GUEST_DEBUG_SSTEP
static_assert(static_cast<int>(Cap::PpcGuestDebugSstep) == KVM_CAP_PPC_GUEST_DEBUG_SSTEP);
#endif
#ifdef KVM_CAP_ARM_NISV_TO_USER
static_assert(static_cast<int>(Cap::ArmNisvToUser) == KVM_CAP_ARM_NISV_TO_USER);
#endif
#ifdef KVM_CAP_ARM_INJECT_EXT_DABT
static_assert(static_cast<int>(Cap::ArmInjectExtDabt) == KVM_CAP_ARM_INJECT_EXT_DABT);
#endif
#ifdef KVM_CAP_S390_VCPU_RESETS
static_assert(static_cast<int>(Cap::S390VcpuResets) == KVM_CAP_S390_VCPU_RESETS);
#endif
#ifdef KVM_CAP_S390_PROTECTED
static_assert(static_cast<int>(Cap::S390Protected) == KVM_CAP_S390_PROTECTED);
#endif
#ifdef KVM_CAP_PPC_SECURE_GUEST
static_assert(static_cast<int>(Cap::PpcSecureGuest) == KVM_CAP_PPC_SECURE_GUEST);
#endif
#ifdef KVM_CAP_HALT_POLL
static_assert(static_cast<int>(Cap::HaltPoll) == KVM_CAP_HALT_POLL);
#endif
#ifdef KVM_CAP_ASYNC_PF_INT
static_assert(static_cast<int>(Cap::AsyncPfInt) == KVM_CAP_ASYNC_PF_INT);
#endif
#ifdef KVM_CAP_LAST_CPU
static_assert(static_cast<int>(Cap::LastCpu) == KVM_CAP_LAST_CPU);
#endif
#ifdef KVM_CAP_SMALLER_MAXPHYADDR
static_assert(static_cast<int>(Cap::SmallerMaxphyaddr) == KVM_CAP_SMALLER_MAXPHYADDR);
#endif
#ifdef KVM_CAP_S390_DIAG318
static_assert(static_cast<int>(Cap::S390Diag318) == KVM_CAP_S390_DIAG318);
#endif
#ifdef KVM_CAP_STEAL_TIME
static_assert(static_cast<int>(Cap::StealTime) == KVM_CAP_STEAL_TIME);
#endif
#ifdef KVM_CAP_X86_USER_SPACE_MSR
static_assert(static_cast<int>(Cap::X86UserSpaceMsr) == KVM_CAP_X86_USER_SPACE_MSR);
#endif
#ifdef KVM_CAP_X86_MSR_FILTER
static_assert(static_cast<int>(Cap::X86MsrFilter) == KVM_CAP_X86_MSR_FILTER);
#endif
#ifdef KVM_CAP_ENFORCE_PV_FEATURE_CPUID
static_assert(static_cast<int>(Cap::EnforcePvFeatureCpuid) == KVM_CAP_ENFORCE_PV_FEATURE_CPUID);
#endif
#ifdef KVM_CAP_SYS_HYPERV_CPUID
static_assert(static_cast<int>(Cap::SysHypervCpuid) == KVM_CAP_SYS_HYPERV_CPUID);
#endif
#ifdef KVM_CAP_DIRTY_LOG_RING
static_assert(static_cast<int>(Cap::DirtyLogRing) == KVM_CAP_DIRTY_LOG_RING);
#endif
#ifdef KVM_CAP_X86_BUS_LOCK_EXIT
static_assert(static_cast<int>(Cap::X86BusLockExit) == KVM_CAP_X86_BUS_LOCK_EXIT);
#endif
#ifdef KVM_CAP_PPC_DAWR1
static_assert(static_cast<int>(Cap::PpcDawr1) == KVM_CAP_PPC_DAWR1);
#endif
#ifdef KVM_CAP_SET_GUEST_DEBUG2
static_assert(static_cast<int>(Cap::SetGuestDebug2) == KVM_CAP_SET_GUEST_DEBUG2);
#endif
#ifdef KVM_CAP_SGX_ATTRIBUTE
static_assert(static_cast<int>(Cap::SgxAttribute) == KVM_CAP_SGX_ATTRIBUTE);
#endif
#ifdef KVM_CAP_VM_COPY_ENC_CONTEXT_FROM
static_assert(static_cast<int>(Cap::VmCopyEncContextFrom) == KVM_CAP_VM_COPY_ENC_CONTEXT_FROM);
#endif
#ifdef KVM_CAP_PTP_KVM
static_assert(static_cast<int>(Cap::PtpKvm) == KVM_CAP_PTP_KVM);
#endif
#ifdef KVM_CAP_HYPERV_ENFORCE_CPUID
static_assert(static_cast<int>(Cap::HypervEnforceCpuid) == KVM_CAP_HYPERV_ENFORCE_CPUID);
#endif
#ifdef KVM_CAP_SREGS2
static_assert(static_cast<int>(Cap::Sregs2) == KVM_CAP_SREGS2);
#endif
#ifdef KVM_CAP_EXIT_HYPERCALL
static_assert(static_cast<int>(Cap::ExitHypercall) == KVM_CAP_EXIT_HYPERCALL);
#endif
#ifdef KVM_CAP_PPC_RPT_INVALIDATE
static_assert(static_cast<int>(Cap::PpcRptInvalidate) == KVM_CAP_PPC_RPT_INVALIDATE);
#endif
#ifdef KVM_CAP_BINARY_STATS_FD
static_assert(static_cast<int>(Cap::BinaryStatsFd) == KVM_CAP_BINARY_STATS_FD);
#endif
#ifdef KVM_CAP_EXIT_ON_EMULATION_FAILURE
static_assert(static_cast<int>(Cap::ExitOnEmulationFailure) == KVM_CAP_EXIT_ON_EMULATION_FAILURE);
#endif
#ifdef KVM_CAP_ARM_MTE
static_assert(static_cast<int>(Cap::ArmMte) == KVM_CAP_ARM_MTE);
#endif
#ifdef KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM
static_assert(static_cast<int>(Cap::VmMoveEncContextFrom) == KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM);
#endif
#ifdef KVM_CAP_VM_GPA_BITS
static_assert(static_cast<int>(Cap::VmGpaBits) == KVM_CAP_VM_GPA_BITS);
#endif
#ifdef KVM_CAP_XSAVE2
static_assert(static_cast<int>(Cap::Xsave2) == KVM_CAP_XSAVE2);
#endif
#ifdef KVM_CAP_SYS_ATTRIBUTES
static_assert(static_cast<int>(Cap::SysAttributes) == KVM_CAP_SYS_ATTRIBUTES);
#endif
#ifdef KVM_CAP_PPC_AIL_MODE_3
static_assert(static_cast<int>(Cap::PpcAilMode3) == KVM_CAP_PPC_AIL_MODE_3);
#endif
#ifdef KVM_CAP_S390_MEM_OP_EXTENSION
static_assert(static_cast<int>(Cap::S390MemOpExtension) == KVM_CAP_S390_MEM_OP_EXTENSION);
#endif
#ifdef KVM_CAP_PMU_CAPABILITY
static_assert(static_cast<int>(Cap::PmuCapability) == KVM_CAP_PMU_CAPABILITY);
#endif
#ifdef KVM_CAP_DISABLE_QUIRKS2
static_assert(static_cast<int>(Cap::DisableQuirks2) == KVM_CAP_DISABLE_QUIRKS2);
#endif
#ifdef KVM_CAP_VM_TSC_CONTROL
static_assert(static_cast<int>(Cap::VmTscControl) == KVM_CAP_VM_TSC_CONTROL);
#endif
#ifdef KVM_CAP_SYSTEM_EVENT_DATA
static_assert(static_cast<int>(Cap::SystemEventData) == KVM_CAP_SYSTEM_EVENT_DATA);
#endif
#ifdef KVM_CAP_ARM_SYSTEM_SUSPEND
static_assert(static_cast<int>(Cap::ArmSystemSuspend) == KVM_CAP_ARM_SYSTEM_SUSPEND);
#endif
#ifdef KVM_CAP_S390_PROTECTED_DUMP
static_assert(static_cast<int>(Cap::S390ProtectedDump) == KVM_CAP_S390_PROTECTED_DUMP);
#endif
#ifdef KVM_CAP_X86_TRIPLE_FAULT_EVENT
static_assert(static_cast<int>(Cap::X86TripleFaultEvent) == KVM_CAP_X86_TRIPLE_FAULT_EVENT);
#endif
#ifdef KVM_CAP_X86_NOTIFY_VMEXIT
static_assert(static_cast<int>(Cap::X86NotifyVmexit) == KVM_CAP_X86_NOTIFY_VMEXIT);
#endif
#ifdef KVM_CAP_VM_DISABLE_NX_HUGE_PAGES
static_assert(static_cast<int>(Cap::VmDisableNxHugePages) == KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
#endif
#ifdef KVM_CAP_S390_ZPCI_OP
static_assert(static_cast<int>(Cap::S390ZpciOp) == KVM_CAP_S390_ZPCI_OP);
#endif
#ifdef KVM_CAP_S390_CPU_TOPOLOGY
static_assert(static_cast<int>(Cap::S390CpuTopology) == KVM_CAP_S390_CPU_TOPOLOGY);
#endif
#ifdef KVM_CAP_DIRTY_LOG_RING_ACQ_REL
static_assert(static_cast<int>(Cap::DirtyLogRingAcqRel) == KVM_CAP_DIRTY_LOG_RING_ACQ_REL);
#endif
#ifdef KVM_CAP_S390_PROTECTED_ASYNC_DISABLE
static_assert(static_cast<int>(Cap::S390ProtectedAsyncDisable) == KVM_CAP_S390_PROTECTED_ASYNC_DISABLE);
#endif
#ifdef KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP
static_assert(static_cast<int>(Cap::DirtyLogRingWithBitmap) == KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP);
#endif
#ifdef KVM_CAP_PMU_EVENT_MASKED_EVENTS
static_assert(static_cast<int>(Cap::PmuEventMaskedEvents) == KVM_CAP_PMU_EVENT_MASKED_EVENTS);
#endif
#ifdef KVM_CAP_COUNTER_OFFSET
static_assert(static_cast<int>(Cap::CounterOffset) == KVM_CAP_COUNTER_OFFSET);
#endif
#ifdef KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE
static_assert(static_cast<int>(Cap::ArmEagerSplitChunkSize) == KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE);
#endif
#ifdef KVM_CAP_ARM_SUPPORTED_BLOCK_SIZES
static_assert(static_cast<int>(Cap::ArmSupportedBlockSizes) == KVM_CAP_ARM_SUPPORTED_BLOCK_SIZES);
#endif
#ifdef KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES
static_assert(static_cast<int>(Cap::ArmSupportedRegMaskRanges) == KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES);
#endif
#ifdef KVM_CAP_USER_MEMORY2
static_assert(static_cast<int>(Cap::UserMemory2) == KVM_CAP_USER_MEMORY2);
#endif
#ifdef KVM_CAP_MEMORY_FAULT_INFO
static_assert(static_cast<int>(Cap::MemoryFaultInfo) == KVM_CAP_MEMORY_FAULT_INFO);
#endif
#ifdef KVM_CAP_MEMORY_ATTRIBUTES
static_assert(static_cast<int>(Cap::MemoryAttributes) == KVM_CAP_MEMORY_ATTRIBUTES);
#endif
#ifdef KVM_CAP_GUEST_MEMFD
static_assert(static_cast<int>(Cap::GuestMemfd) == KVM_CAP_GUEST_MEMFD);
#endif
#ifdef KVM_CAP_VM_TYPES
static_assert(static_cast<int>(Cap::VmTypes) == KVM_CAP_VM_TYPES);
#endif
#ifdef KVM_CAP_PRE_FAULT_MEMORY
static_assert(static_cast<int>(Cap::PreFaultMemory) == KVM_CAP_PRE_FAULT_MEMORY);
#endif
#ifdef KVM_CAP_X86_APIC_BUS_CYCLES_NS
static_assert(static_cast<int>(Cap::X86ApicBusCyclesNs) == KVM_CAP_X86_APIC_BUS_CYCLES_NS);
#endif
#ifdef KVM_CAP_X86_GUEST_MODE
static_assert(static_cast<int>(Cap::X86GuestMode) == KVM_CAP_X86_GUEST_MODE);
#endif
#ifdef KVM_CAP_ARM_WRITABLE_IMP_ID_REGS
static_assert(static_cast<int>(Cap::ArmWritableImpIdRegs) == KVM_CAP_ARM_WRITABLE_IMP_ID_REGS);
#endif
#ifdef KVM_CAP_ARM_EL2
static_assert(static_cast<int>(Cap::ArmEl2) == KVM_CAP_ARM_EL2);
#endif
#ifdef KVM_CAP_ARM_EL2_E2H0
static_assert(static_cast<int>(Cap::ArmEl2E2h0) == KVM_CAP_ARM_EL2_E2H0);
#endif
#ifdef KVM_CAP_RISCV_MP_STATE_RESET
static_assert(static_cast<int>(Cap::RiscvMpStateReset) == KVM_CAP_RISCV_MP_STATE_RESET);
#endif
#ifdef KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED
static_assert(static_cast<int>(Cap::ArmCacheablePfnmapSupported) == KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED);
#endif
#ifdef KVM_CAP_GUEST_MEMFD_FLAGS
static_assert(static_cast<int>(Cap::GuestMemfdFlags) == KVM_CAP_GUEST_MEMFD_FLAGS);
#endif
#ifdef KVM_CAP_ARM_SEA_TO_USER
static_assert(static_cast<int>(Cap::ArmSeaToUser) == KVM_CAP_ARM_SEA_TO_USER);
#endif
#ifdef KVM_CAP_S390_USER_OPEREXEC
static_assert(static_cast<int>(Cap::S390UserOperexec) == KVM_CAP_S390_USER_OPEREXEC);
#endif
#ifdef KVM_CAP_S390_KEYOP
static_assert(static_cast<int>(Cap::S390Keyop) == KVM_CAP_S390_KEYOP);
#endif
#ifdef KVM_CAP_S390_VSIE_ESAMODE
static_assert(static_cast<int>(Cap::S390VsieEsamode) == KVM_CAP_S390_VSIE_ESAMODE);
#endif
#ifdef KVM_CAP_S390_HPAGE_2G
static_assert(static_cast<int>(Cap::S390Hpage2g) == KVM_CAP_S390_HPAGE_2G);
#endif
#ifdef KVM_CAP_PPC_COMPAT_CAPS
static_assert(static_cast<int>(Cap::PpcCompatCaps) == KVM_CAP_PPC_COMPAT_CAPS);
#endif
#ifdef KVM_CAP_ARM_PMU_V3_STRICT
static_assert(static_cast<int>(Cap::ArmPmuV3Strict) == KVM_CAP_ARM_PMU_V3_STRICT);
#endif
// end generated checks

TEST(CapNames, EveryNumberUpToTheNewestHasItsKernelName) {
    // Numbers <linux/kvm.h> of Linux 7.3 does not name (never assigned, or retired).
    const std::set<int> never_named = {5, 17, 19, 20, 27, 28};
    int named = 0;
    for (int n = 0; n <= 251; ++n) {
        std::string_view name = kvmxx::cap_name(static_cast<Cap>(n));
        if (never_named.count(n)) {
            EXPECT_EQ(name, "KVM_CAP_?") << n;
            continue;
        }
        EXPECT_TRUE(name.starts_with("KVM_CAP_")) << n;
        EXPECT_NE(name, "KVM_CAP_?") << "capability " << n << " has no name";
        ++named;
    }
    EXPECT_EQ(named, 246);
}

TEST(CapNames, NoTwoCapabilitiesShareAName) {
    // Each KVM_CAP_* macro names one number: a name printed twice hides which was asked.
    std::set<std::string_view> names;
    int named = 0;
    for (int n = 0; n <= 251; ++n) {
        std::string_view name = kvmxx::cap_name(static_cast<Cap>(n));
        if (name == "KVM_CAP_?") continue;
        ++named;
        EXPECT_TRUE(names.insert(name).second) << name << " names " << n << " and an earlier number";
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(named));
}

TEST(CapNames, NamesMatchTheKernelsSpelling) {
    EXPECT_STREQ(kvmxx::cap_name(Cap::Irqfd), "KVM_CAP_IRQFD");
    EXPECT_STREQ(kvmxx::cap_name(Cap::ArmPsci02), "KVM_CAP_ARM_PSCI_0_2");
    EXPECT_EQ(static_cast<int>(Cap::UserMemory2), 231);
    EXPECT_STREQ(kvmxx::cap_name(Cap::UserMemory2), "KVM_CAP_USER_MEMORY2");
    EXPECT_EQ(static_cast<int>(Cap::GuestMemfd), 234);
    EXPECT_STREQ(kvmxx::cap_name(static_cast<Cap>(9999)), "KVM_CAP_?");
}

}  // namespace
