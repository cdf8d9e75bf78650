#!/bin/sh
# Runs inside the aarch64 testbed for benchmarks/run: the KVM/VFIO pairs, then
# the example VMM's boots. Google Benchmark's JSON goes between markers.
# kvmxx_bench is dynamically linked (Debian's arm64 Google Benchmark is shared
# only): its loader and libraries came along in ./lib.
echo "BENCH-JSON-BEGIN"
./lib/ld-linux-aarch64.so.1 --library-path ./lib ./kvmxx_bench --benchmark_format=json \
    --benchmark_repetitions=${BENCH_REPETITIONS:-5} --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true --benchmark_min_time=${BENCH_MIN_TIME:-0.2} 2>/dev/null
echo "BENCH-JSON-END"
quiet="console=ttyAMA0 rdinit=/init panic=-1 quiet loglevel=1"
for i in 1 2 3 4 5; do
    ./kvmxx-vmm --kernel Image --initrd bench.cpio --cpus 1 --memory 256M --cmdline "$quiet" 2>&1 | grep boot-timer
done
./kvmxx-vmm --kernel Image --initrd bench.cpio --cpus 1 --memory 256M --cmdline "$quiet bench=intx" \
    --device vfio:0000:00:04.0 2>&1 | grep -E '^bench |bench-guest'
