// kvmxx/kvm_cap.hpp — `Cap`: KVM capabilities by name, for Kvm::check and Vm::check.
//
//     if (*kvm.check(kvmxx::Cap::IrqfdResample) == 0) { /* no level-triggered irqfds */ }
//
// Values are the kernel's KVM_CAP_* numbers, so `static_cast<Cap>(n)` works for
// capabilities this list does not name.
#pragma once

#include "config.hpp"

#include <linux/kvm.h>

KVMXX_BEGIN_NAMESPACE

enum class Cap : int {
    Irqchip = KVM_CAP_IRQCHIP,
    Hlt = KVM_CAP_HLT,
    UserMemory = KVM_CAP_USER_MEMORY,
    SetTssAddr = KVM_CAP_SET_TSS_ADDR,
    ExtCpuid = KVM_CAP_EXT_CPUID,
    NrVcpus = KVM_CAP_NR_VCPUS,
    MaxVcpus = KVM_CAP_MAX_VCPUS,
    MaxVcpuId = KVM_CAP_MAX_VCPU_ID,
    NrMemslots = KVM_CAP_NR_MEMSLOTS,
    MpState = KVM_CAP_MP_STATE,
    CoalescedMmio = KVM_CAP_COALESCED_MMIO,
    SyncMmu = KVM_CAP_SYNC_MMU,
    IrqRouting = KVM_CAP_IRQ_ROUTING,
    IrqInjectStatus = KVM_CAP_IRQ_INJECT_STATUS,
    Irqfd = KVM_CAP_IRQFD,
    IrqfdResample = KVM_CAP_IRQFD_RESAMPLE,
    Ioeventfd = KVM_CAP_IOEVENTFD,
    IoeventfdAnyLength = KVM_CAP_IOEVENTFD_ANY_LENGTH,
    InternalErrorData = KVM_CAP_INTERNAL_ERROR_DATA,
    OneReg = KVM_CAP_ONE_REG,
    SignalMsi = KVM_CAP_SIGNAL_MSI,
    ReadonlyMem = KVM_CAP_READONLY_MEM,
    DeviceCtrl = KVM_CAP_DEVICE_CTRL,
    CheckExtensionVm = KVM_CAP_CHECK_EXTENSION_VM,
    ImmediateExit = KVM_CAP_IMMEDIATE_EXIT,
    MsiDevid = KVM_CAP_MSI_DEVID,
    ManualDirtyLogProtect2 = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
    HaltPoll = KVM_CAP_HALT_POLL,
    ArmPsci = KVM_CAP_ARM_PSCI,
    ArmPsci02 = KVM_CAP_ARM_PSCI_0_2,
    ArmPmuV3 = KVM_CAP_ARM_PMU_V3,
    ArmSve = KVM_CAP_ARM_SVE,
    ArmPtrauthAddress = KVM_CAP_ARM_PTRAUTH_ADDRESS,
    ArmPtrauthGeneric = KVM_CAP_ARM_PTRAUTH_GENERIC,
    ArmVmIpaSize = KVM_CAP_ARM_VM_IPA_SIZE,
    ArmIrqLineLayout2 = KVM_CAP_ARM_IRQ_LINE_LAYOUT_2,
    ArmNisvToUser = KVM_CAP_ARM_NISV_TO_USER,
    ArmUserIrq = KVM_CAP_ARM_USER_IRQ,
    TscControl = KVM_CAP_TSC_CONTROL,
    Vapic = KVM_CAP_VAPIC,
    X2apicApi = KVM_CAP_X2APIC_API,
    SplitIrqchip = KVM_CAP_SPLIT_IRQCHIP,
    X86DisableExits = KVM_CAP_X86_DISABLE_EXITS,
    X86UserSpaceMsr = KVM_CAP_X86_USER_SPACE_MSR,
};

/// "KVM_CAP_IRQFD" for Cap::Irqfd; "KVM_CAP_?" for one not listed.
inline const char* cap_name(Cap cap) noexcept {
    switch (cap) {
        case Cap::Irqchip: return "KVM_CAP_IRQCHIP";
        case Cap::Hlt: return "KVM_CAP_HLT";
        case Cap::UserMemory: return "KVM_CAP_USER_MEMORY";
        case Cap::SetTssAddr: return "KVM_CAP_SET_TSS_ADDR";
        case Cap::ExtCpuid: return "KVM_CAP_EXT_CPUID";
        case Cap::NrVcpus: return "KVM_CAP_NR_VCPUS";
        case Cap::MaxVcpus: return "KVM_CAP_MAX_VCPUS";
        case Cap::MaxVcpuId: return "KVM_CAP_MAX_VCPU_ID";
        case Cap::NrMemslots: return "KVM_CAP_NR_MEMSLOTS";
        case Cap::MpState: return "KVM_CAP_MP_STATE";
        case Cap::CoalescedMmio: return "KVM_CAP_COALESCED_MMIO";
        case Cap::SyncMmu: return "KVM_CAP_SYNC_MMU";
        case Cap::IrqRouting: return "KVM_CAP_IRQ_ROUTING";
        case Cap::IrqInjectStatus: return "KVM_CAP_IRQ_INJECT_STATUS";
        case Cap::Irqfd: return "KVM_CAP_IRQFD";
        case Cap::IrqfdResample: return "KVM_CAP_IRQFD_RESAMPLE";
        case Cap::Ioeventfd: return "KVM_CAP_IOEVENTFD";
        case Cap::IoeventfdAnyLength: return "KVM_CAP_IOEVENTFD_ANY_LENGTH";
        case Cap::InternalErrorData: return "KVM_CAP_INTERNAL_ERROR_DATA";
        case Cap::OneReg: return "KVM_CAP_ONE_REG";
        case Cap::SignalMsi: return "KVM_CAP_SIGNAL_MSI";
        case Cap::ReadonlyMem: return "KVM_CAP_READONLY_MEM";
        case Cap::DeviceCtrl: return "KVM_CAP_DEVICE_CTRL";
        case Cap::CheckExtensionVm: return "KVM_CAP_CHECK_EXTENSION_VM";
        case Cap::ImmediateExit: return "KVM_CAP_IMMEDIATE_EXIT";
        case Cap::MsiDevid: return "KVM_CAP_MSI_DEVID";
        case Cap::ManualDirtyLogProtect2: return "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2";
        case Cap::HaltPoll: return "KVM_CAP_HALT_POLL";
        case Cap::ArmPsci: return "KVM_CAP_ARM_PSCI";
        case Cap::ArmPsci02: return "KVM_CAP_ARM_PSCI_0_2";
        case Cap::ArmPmuV3: return "KVM_CAP_ARM_PMU_V3";
        case Cap::ArmSve: return "KVM_CAP_ARM_SVE";
        case Cap::ArmPtrauthAddress: return "KVM_CAP_ARM_PTRAUTH_ADDRESS";
        case Cap::ArmPtrauthGeneric: return "KVM_CAP_ARM_PTRAUTH_GENERIC";
        case Cap::ArmVmIpaSize: return "KVM_CAP_ARM_VM_IPA_SIZE";
        case Cap::ArmIrqLineLayout2: return "KVM_CAP_ARM_IRQ_LINE_LAYOUT_2";
        case Cap::ArmNisvToUser: return "KVM_CAP_ARM_NISV_TO_USER";
        case Cap::ArmUserIrq: return "KVM_CAP_ARM_USER_IRQ";
        case Cap::TscControl: return "KVM_CAP_TSC_CONTROL";
        case Cap::Vapic: return "KVM_CAP_VAPIC";
        case Cap::X2apicApi: return "KVM_CAP_X2APIC_API";
        case Cap::SplitIrqchip: return "KVM_CAP_SPLIT_IRQCHIP";
        case Cap::X86DisableExits: return "KVM_CAP_X86_DISABLE_EXITS";
        case Cap::X86UserSpaceMsr: return "KVM_CAP_X86_USER_SPACE_MSR";
    }
    return "KVM_CAP_?";
}

KVMXX_END_NAMESPACE
