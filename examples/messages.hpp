// messages.hpp — every sentence the examples say, once per language: English (en)
// and Simplified Chinese (zh_CN). No runtime package and no gettext: two tables
// of string constants, and the reader's language chosen from the environment:
//
//   KVMXX_LANG=zh_CN (or any value starting with "zh")  Chinese
//   KVMXX_LANG=en (any other non-empty value)           English
//   KVMXX_LANG unset: the first non-empty of LC_ALL, LC_MESSAGES, LANG;
//   Chinese when it starts with "zh" (zh_CN.UTF-8, zh_TW, zh), else English.
//
// Only the narration is translated. The library's trace (KVMXX_TRACE=1: ioctl
// names, arguments, results) and its error texts stay English, and so does what
// a guest itself prints.
//
// Printing: EXAMPLE_SAY(id, args...) prints message `id` in the reader's language.
// The compiler checks the arguments against BOTH tables' format strings
// (-Wformat: a `%llu` given an `int` is a warning, so an error here), and a
// static_assert below requires the two translations of each message to have the
// same conversions in the same order, so a translation cannot reorder, drop or
// retype a number. A message missing from either table does not compile.
//
// Adding a message: a line in `en`, a line in `zh_CN`, its name in
// KVMXX_EXAMPLE_MESSAGES. Keep every number of the English text in the Chinese
// one, as digits (tests/examples/run-all.sh compares the numbers of both runs).
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string_view>

namespace example::messages {

// ---- English -----------------------------------------------------------------
namespace en {
inline constexpr char error[] = "error: %s\n";
inline constexpr char done_psci[] = "the guest called PSCI SYSTEM_OFF";
inline constexpr char done_hlt[] = "the guest halted (HLT)";
inline constexpr char guest_exception[] = "guest exception, ESR_EL1=%#llx\n";
inline constexpr char unexpected_exit[] = "unexpected exit: %s\n";

inline constexpr char ex1_vm[] = "example 1: a VM with 64 KiB of RAM at %#llx and one vCPU\n";
inline constexpr char ex1_mmio[] = "example 1: the guest wrote %llu to %#llx (%zu bytes): an MMIO exit\n";
inline constexpr char ex1_done[] = "example 1: %s: done\n";
inline constexpr char ex1_unexpected[] = "example 1: unexpected exit %s\n";

inline constexpr char ex2_refused[] = "example 2: refused, as it should be: %s\n";
inline constexpr char ex2_devices[] = "example 2: console at 0xa000000, counter at 0xa001000; the guest says:\n";
inline constexpr char ex2_done[] = "example 2: the counter was read %u times; %s\n";
inline constexpr char ex2_no_device[] = "example 2: no device at this exit: %s\n";

inline constexpr char ex3_gic[] = "example 3: GICv3 at %#llx; guest interrupt SPI %u = INTID %u\n";
inline constexpr char ex3_pic[] = "example 3: in-kernel 8259 PICs; guest interrupt IRQ %u = vector %#x\n";
inline constexpr char ex3_irqfd[] = "example 3: KVM_IRQFD: eventfd %d now raises GSI %u\n";
inline constexpr char ex3_gic_ready[] = "example 3: guest GIC driver ready (report at %#llx)\n";
inline constexpr char ex3_pic_ready[] = "example 3: guest PIC driver ready (report at %#llx)\n";
inline constexpr char ex3_gic_signal[] = "example 3: signal %d -> the guest's handler acknowledged INTID %llu\n";
inline constexpr char ex3_pic_signal[] = "example 3: signal %d -> the guest's handler ran for vector %#llx\n";
inline constexpr char ex3_done[] = "example 3: 3 signals, 3 guest interrupts, 0 ioctls per interrupt\n";

inline constexpr char ex4_device[] = "example 4: %s is in IOMMU group %u; BAR0 (%zu KiB) mapped; edu id %#x\n";
inline constexpr char ex4_set_irqs[] = "example 4: VFIO_DEVICE_SET_IRQS: the device's INTx now signals eventfd %d\n";
inline constexpr char ex4_lost[] = "example 4: interrupt %u never arrived\n";
inline constexpr char ex4_interrupt[] = "example 4: interrupt %u: eventfd count %llu, edu status %#x";
inline constexpr char ex4_acked[] = " -> acknowledged, unmasked\n";
inline constexpr char ex4_done[] = "example 4: 3 device interrupts reached userspace through an eventfd\n";

inline constexpr char ex5_bar[] = "example 5: %s's BAR0 is guest memory at %#llx\n";
inline constexpr char ex5_chain[] =
    "example 5: INTx -> eventfd %d -> KVM_IRQFD -> GSI %u (INTID %u); resample -> eventfd %d -> unmask\n";
inline constexpr char ex5_interrupt[] =
    "example 5: interrupt %u: the guest's handler took INTID %llu and acked edu status %llu; edu status now %u\n";
inline constexpr char ex5_consumed[] =
    "example 5: the eventfd holds nothing: KVM consumed every signal, userspace never saw one\n";
inline constexpr char ex5_left[] = "example 5: the eventfd holds a count (unexpected): a signal KVM did not consume\n";

// Lines starting with "*" carry counts the host measured (its own interrupts):
// they differ from run to run, so run-all.sh leaves their numbers out of the
// comparison of the two languages.
inline constexpr char ex6_chain[] =
    "example 6: %s: INTx -> eventfd %d -> KVM_IRQFD -> GSI %u (INTID %u); KVM subscribes to this one eventfd\n";
inline constexpr char ex6_no_disk[] =
    "example 6: cannot open %s (O_DIRECT): this example needs a disk on the host's nvme driver\n";
inline constexpr char ex6_disk[] =
    "example 6: a host thread reads %s (O_DIRECT) all along: the host's nvme driver takes its interrupts\n";
inline constexpr char ex6_table[] =
    "example 6: the guest ran %u windows of %u ms, edu raised once in each; what each side received:\n";
inline constexpr char ex6_header[] = "  source        the host's handler         host took   guest saw\n";
inline constexpr char ex6_row_timer[] = "* host timer    %-24s %10llu %11llu\n";
inline constexpr char ex6_row_uart[] = "* host UART     %-24s %10llu %11llu\n";
inline constexpr char ex6_row_nvme[] = "* host NVMe     %-24s %10llu %11llu\n";
inline constexpr char ex6_row_edu[] = "  edu (vfio)    %-24s %10llu %11llu\n";
inline constexpr char ex6_measured[] =
    "  (* = the host's own interrupts: their counts differ from run to run; none reached KVM)\n";
inline constexpr char ex6_consumed[] =
    "example 6: vfio-pci signalled the eventfd %llu times and it holds %llu: KVM consumed every signal; "
    "the guest's handler took %llu interrupts, all INTID %llu\n";
inline constexpr char ex6_deassigned[] = "example 6: KVM_IRQFD with DEASSIGN: KVM no longer listens to eventfd %d\n";
inline constexpr char ex6_lost[] = "example 6: edu interrupt %u never reached the eventfd\n";
inline constexpr char ex6_unsubscribed[] =
    "example 6: edu raised again (%u): the guest saw nothing; the eventfd held %llu, read by us; "
    "we acked edu and unmasked INTx\n";
inline constexpr char ex6_after[] =
    "example 6: after DEASSIGN, %u raises: the host took %llu (vfio-intx), we read %llu from the eventfd, "
    "the guest saw %llu\n";
inline constexpr char ex6_done[] =
    "example 6: KVM is a subscriber: it saw only the interrupts of the eventfd it was handed, and only while "
    "subscribed\n";
inline constexpr char ex6_check_failed[] = "example 6: check failed: %s\n";
}  // namespace en

// ---- 简体中文 -----------------------------------------------------------------
namespace zh_CN {
inline constexpr char error[] = "错误：%s\n";
inline constexpr char done_psci[] = "客户机调用了 PSCI SYSTEM_OFF";
inline constexpr char done_hlt[] = "客户机执行了 HLT，停了下来";
inline constexpr char guest_exception[] = "客户机发生异常，ESR_EL1=%#llx\n";
inline constexpr char unexpected_exit[] = "意外的退出：%s\n";

inline constexpr char ex1_vm[] = "示例 1：一个虚拟机，%#llx 处有 64 KiB 内存，外加一个 vCPU\n";
inline constexpr char ex1_mmio[] = "示例 1：客户机写入了 %llu，地址 %#llx（%zu 字节）：一次 MMIO 退出\n";
inline constexpr char ex1_done[] = "示例 1：%s：结束\n";
inline constexpr char ex1_unexpected[] = "示例 1：意外的退出 %s\n";

inline constexpr char ex2_refused[] = "示例 2：被拒绝了，理应如此：%s\n";
inline constexpr char ex2_devices[] = "示例 2：控制台在 0xa000000，计数器在 0xa001000；客户机输出：\n";
inline constexpr char ex2_done[] = "示例 2：计数器一共被读了 %u 次；%s\n";
inline constexpr char ex2_no_device[] = "示例 2：这次退出的地址上没有设备：%s\n";

inline constexpr char ex3_gic[] = "示例 3：GICv3 位于 %#llx；客户机中断为 SPI %u = INTID %u\n";
inline constexpr char ex3_pic[] = "示例 3：内核中的 8259 PIC；客户机中断为 IRQ %u = 向量 %#x\n";
inline constexpr char ex3_irqfd[] = "示例 3：KVM_IRQFD：从现在起，eventfd %d 会触发 GSI %u\n";
inline constexpr char ex3_gic_ready[] = "示例 3：客户机的 GIC 驱动已就绪（报告写到 %#llx）\n";
inline constexpr char ex3_pic_ready[] = "示例 3：客户机的 PIC 驱动已就绪（报告写到 %#llx）\n";
inline constexpr char ex3_gic_signal[] = "示例 3：第 %d 次通知 -> 客户机的中断处理程序确认了 INTID %llu\n";
inline constexpr char ex3_pic_signal[] = "示例 3：第 %d 次通知 -> 客户机为向量 %#llx 运行了中断处理程序\n";
inline constexpr char ex3_done[] = "示例 3：3 次通知，3 次客户机中断，每次中断 0 个 ioctl\n";

inline constexpr char ex4_device[] = "示例 4：%s 属于 IOMMU 组 %u；BAR0（%zu KiB）已映射；edu 的 ID 为 %#x\n";
inline constexpr char ex4_set_irqs[] = "示例 4：VFIO_DEVICE_SET_IRQS：从现在起，设备的 INTx 会通知 eventfd %d\n";
inline constexpr char ex4_lost[] = "示例 4：第 %u 次中断始终没有到来\n";
inline constexpr char ex4_interrupt[] = "示例 4：第 %u 次中断：eventfd 计数 %llu，edu 状态 %#x";
inline constexpr char ex4_acked[] = " -> 已确认，已解除屏蔽\n";
inline constexpr char ex4_done[] = "示例 4：3 次设备中断经由 eventfd 到达了用户态\n";

inline constexpr char ex5_bar[] = "示例 5：%s 的 BAR0 成了客户机内存，位于 %#llx\n";
inline constexpr char ex5_chain[] =
    "示例 5：INTx -> eventfd %d -> KVM_IRQFD -> GSI %u（INTID %u）；resample -> eventfd %d -> 解除屏蔽\n";
inline constexpr char ex5_interrupt[] =
    "示例 5：第 %u 次中断：客户机的中断处理程序收到 INTID %llu，确认了 edu 状态 %llu；edu 状态现为 %u\n";
inline constexpr char ex5_consumed[] = "示例 5：eventfd 里什么也没有：每次通知都被 KVM 消费掉了，用户态一次也没看到\n";
inline constexpr char ex5_left[] = "示例 5：eventfd 里留有计数（不该如此）：有一次通知没有被 KVM 消费\n";

inline constexpr char ex6_chain[] =
    "示例 6：%s：INTx -> eventfd %d -> KVM_IRQFD -> GSI %u（INTID %u）；KVM 只订阅这一个 eventfd\n";
inline constexpr char ex6_no_disk[] = "示例 6：无法打开 %s（O_DIRECT）：这个示例需要一块由宿主机 nvme 驱动管理的磁盘\n";
inline constexpr char ex6_disk[] =
    "示例 6：宿主机上一个线程一直在读 %s（O_DIRECT）：它的中断由宿主机的 nvme 驱动处理\n";
inline constexpr char ex6_table[] =
    "示例 6：客户机运行了 %u 个时间窗，每个 %u 毫秒，每个窗口里 edu 触发一次中断；两边各收到了什么：\n";
inline constexpr char ex6_header[] = "  来源          宿主机上的处理程序        宿主机收到  客户机收到\n";
inline constexpr char ex6_row_timer[] = "* 宿主机定时器  %-24s %10llu %11llu\n";
inline constexpr char ex6_row_uart[] = "* 宿主机串口    %-24s %10llu %11llu\n";
inline constexpr char ex6_row_nvme[] = "* 宿主机 NVMe   %-24s %10llu %11llu\n";
inline constexpr char ex6_row_edu[] = "  edu（vfio）   %-24s %10llu %11llu\n";
inline constexpr char ex6_measured[] = "  （* = 宿主机自己的中断：计数每次运行都不同；没有一个到达 KVM）\n";
inline constexpr char ex6_consumed[] =
    "示例 6：vfio-pci 通知了 eventfd %llu 次，其中还剩 %llu：每次通知都被 KVM 消费了；"
    "客户机的中断处理程序收到了 %llu 次中断，全是 INTID %llu\n";
inline constexpr char ex6_deassigned[] = "示例 6：带 DEASSIGN 的 KVM_IRQFD：KVM 不再监听 eventfd %d\n";
inline constexpr char ex6_lost[] = "示例 6：第 %u 次 edu 中断始终没有到达 eventfd\n";
inline constexpr char ex6_unsubscribed[] =
    "示例 6：edu 再次触发中断（第 %u 次）：客户机什么也没收到；eventfd 里留有 %llu，由我们读走；"
    "我们确认了 edu，并解除了 INTx 的屏蔽\n";
inline constexpr char ex6_after[] =
    "示例 6：DEASSIGN 之后触发了 %u 次：宿主机收到 %llu 次（vfio-intx），我们从 eventfd 读到 %llu，"
    "客户机收到 %llu\n";
inline constexpr char ex6_done[] = "示例 6：KVM 是订阅者：它只看到交给它的那个 eventfd 上的中断，而且只在订阅期间\n";
inline constexpr char ex6_check_failed[] = "示例 6：检查失败：%s\n";
}  // namespace zh_CN

// ---- the list of messages: both tables must have each, with the same conversions

#define KVMXX_EXAMPLE_MESSAGES(X)                                                                       \
    X(error) X(done_psci) X(done_hlt) X(guest_exception) X(unexpected_exit)                             \
    X(ex1_vm) X(ex1_mmio) X(ex1_done) X(ex1_unexpected)                                                 \
    X(ex2_refused) X(ex2_devices) X(ex2_done) X(ex2_no_device)                                          \
    X(ex3_gic) X(ex3_pic) X(ex3_irqfd) X(ex3_gic_ready) X(ex3_pic_ready) X(ex3_gic_signal)              \
    X(ex3_pic_signal) X(ex3_done)                                                                       \
    X(ex4_device) X(ex4_set_irqs) X(ex4_lost) X(ex4_interrupt) X(ex4_acked) X(ex4_done)                 \
    X(ex5_bar) X(ex5_chain) X(ex5_interrupt) X(ex5_consumed) X(ex5_left)                             \
    X(ex6_chain) X(ex6_no_disk) X(ex6_disk) X(ex6_table) X(ex6_header) X(ex6_row_timer) X(ex6_row_uart) \
    X(ex6_row_nvme) X(ex6_row_edu) X(ex6_measured) X(ex6_consumed) X(ex6_deassigned) X(ex6_lost)        \
    X(ex6_unsubscribed) X(ex6_after) X(ex6_done) X(ex6_check_failed)

enum class Id {
#define KVMXX_EXAMPLE_ID(name) name,
    KVMXX_EXAMPLE_MESSAGES(KVMXX_EXAMPLE_ID)
#undef KVMXX_EXAMPLE_ID
};

/// The conversions of a printf format, one after another, as written from '%' to
/// the conversion letter ("%#llx", "%zu", ...); "%%" is none. Empty on a malformed one.
struct Conversions {
    std::string_view items[16]{};
    std::size_t count = 0;
    bool malformed = false;
};
constexpr Conversions conversions(std::string_view format) {
    Conversions out;
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') continue;
        const std::size_t start = i++;
        if (i < format.size() && format[i] == '%') continue;
        while (i < format.size() && std::string_view("#0- +'.*123456789hlLqjzt").find(format[i]) != std::string_view::npos) ++i;
        if (i >= format.size() || std::string_view("diouxXeEfFgGaAcspn").find(format[i]) == std::string_view::npos ||
            out.count == 16) {
            out.malformed = true;
            return out;
        }
        out.items[out.count++] = format.substr(start, i + 1 - start);
    }
    return out;
}
constexpr bool same_conversions(std::string_view a, std::string_view b) {
    const auto x = conversions(a), y = conversions(b);
    if (x.malformed || y.malformed || x.count != y.count) return false;
    for (std::size_t i = 0; i < x.count; ++i)
        if (x.items[i] != y.items[i]) return false;
    return true;
}
static_assert(same_conversions("a %#llx b %zu %%", "甲 %#llx 乙 %zu %%"));
static_assert(!same_conversions("%u %s", "%s %u") && !same_conversions("%u", "%d") && !same_conversions("%u", ""));

#define KVMXX_EXAMPLE_CHECK(name)                                                  \
    static_assert(same_conversions(en::name, zh_CN::name),                         \
                  "messages.hpp: en::" #name " and zh_CN::" #name                  \
                  " must have the same printf conversions, in the same order");
KVMXX_EXAMPLE_MESSAGES(KVMXX_EXAMPLE_CHECK)
#undef KVMXX_EXAMPLE_CHECK

inline constexpr const char* english[] = {
#define KVMXX_EXAMPLE_TEXT(name) en::name,
    KVMXX_EXAMPLE_MESSAGES(KVMXX_EXAMPLE_TEXT)
#undef KVMXX_EXAMPLE_TEXT
};
inline constexpr const char* chinese[] = {
#define KVMXX_EXAMPLE_TEXT(name) zh_CN::name,
    KVMXX_EXAMPLE_MESSAGES(KVMXX_EXAMPLE_TEXT)
#undef KVMXX_EXAMPLE_TEXT
};
static_assert(std::size(english) == std::size(chinese));

// ---- choosing the language -----------------------------------------------------

enum class Language { en, zh_CN };

/// The language a locale-style value names: Chinese for "zh", "zh_CN.UTF-8", ...
constexpr Language language_of(std::string_view value) {
    return value.substr(0, 2) == "zh" ? Language::zh_CN : Language::en;
}
static_assert(language_of("zh_CN.UTF-8") == Language::zh_CN && language_of("zh") == Language::zh_CN &&
              language_of("en_US.UTF-8") == Language::en && language_of("C") == Language::en);

/// KVMXX_LANG if set, else LC_ALL, LC_MESSAGES, LANG (the first non-empty one); read once.
inline Language language() {
    static const Language chosen = [] {
        for (const char* name : {"KVMXX_LANG", "LC_ALL", "LC_MESSAGES", "LANG"})
            if (const char* value = std::getenv(name); value && *value) return language_of(value);
        return Language::en;
    }();
    return chosen;
}

/// Message `id` in the reader's language.
inline const char* text(Id id) {
    return (language() == Language::zh_CN ? chinese : english)[static_cast<std::size_t>(id)];
}

/// printf of message `id` to `out` (use EXAMPLE_SAY, which checks the arguments).
inline int say(std::FILE* out, Id id, ...) {
    std::va_list args;
    va_start(args, id);
    const int n = std::vfprintf(out, text(id), args);
    va_end(args);
    return n;
}

}  // namespace example::messages

/// Prints message `id` (a name from KVMXX_EXAMPLE_MESSAGES) with printf arguments,
/// to stdout / to `stream`. The two unevaluated printf calls make the compiler
/// check the arguments against both translations; only `say` runs.
#define EXAMPLE_SAY(id, ...) EXAMPLE_SAY_TO(stdout, id __VA_OPT__(, ) __VA_ARGS__)
#define EXAMPLE_SAY_TO(stream, id, ...)                                                              \
    (static_cast<void>(sizeof(std::printf(::example::messages::en::id __VA_OPT__(, ) __VA_ARGS__))), \
     static_cast<void>(sizeof(std::printf(::example::messages::zh_CN::id __VA_OPT__(, ) __VA_ARGS__))), \
     ::example::messages::say(stream, ::example::messages::Id::id __VA_OPT__(, ) __VA_ARGS__))
