#!/bin/sh
# Runs inside the aarch64 testbed before the VFIO tests: loads VFIO and UIO and
# binds the emulated devices the way an administrator would before passthrough.
#   00:03.0 NVMe   -> vfio-pci (unbound from the nvme driver first, if it has it);
#                     with --nvme-on-host it stays on the host's nvme driver
#   00:04.0 edu    -> vfio-pci
#   00:05.0 edu    -> vfio-pci          } one multifunction slot, one IOMMU group:
#   00:05.1 edu    -> uio_pci_generic   } not viable until 05.1 is on vfio-pci too
# In this emulated host a device joins its IOMMU group only when a driver probes
# it, so binding (driver_override + drivers_probe) comes before any group lookup.
set -e
# The modules, in order, as tests/testbed/fetch found them in this kernel (6.1 has a
# separate vfio_virqfd; later kernels build it into vfio).
[ -s /modules/vfio-order ] || { echo "setup: /modules/vfio-order is missing (a stale build/testbed/cache: delete it)"; exit 1; }
for m in $(cat /modules/vfio-order); do
    insmod /modules/$m.ko 2>/dev/null || grep -q "^${m//-/_} " /proc/modules || { echo "setup: insmod $m failed"; exit 1; }
done
bind() {  # bind BDF DRIVER
    dev=/sys/bus/pci/devices/$1
    [ -e "$dev" ] || { echo "setup: no PCI device $1"; exit 1; }
    if [ -e "$dev/driver" ]; then echo "$1" > "$dev/driver/unbind"; fi
    echo "$2" > "$dev/driver_override"
    echo "$1" > /sys/bus/pci/drivers_probe
    [ "$(basename "$(readlink "$dev/driver")")" = "$2" ] || { echo "setup: $1 did not bind to $2"; exit 1; }
    echo "setup: $1 ($(cat $dev/vendor):$(cat $dev/device)) -> $2, iommu group $(basename "$(readlink "$dev/iommu_group")")"
}
if [ "${1:-}" = --nvme-on-host ]; then
    [ -e /sys/bus/pci/devices/0000:00:03.0/driver ] || bind 0000:00:03.0 nvme
    echo "setup: 0000:00:03.0 stays on $(basename "$(readlink /sys/bus/pci/devices/0000:00:03.0/driver)") (the host's disk)"
else
    bind 0000:00:03.0 vfio-pci
fi
bind 0000:00:04.0 vfio-pci
bind 0000:00:05.0 vfio-pci
bind 0000:00:05.1 uio_pci_generic
