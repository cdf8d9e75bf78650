#!/bin/sh
# Inside the testbed: runs each example named on the command line, in order.
# Each must exit 0 in English (KVMXX_LANG=en, whatever the locale says):
# "EXAMPLE-PASS NAME". A narrated example (0*: its sentences come from
# examples/messages.hpp) then runs again in Chinese (KVMXX_LANG=zh_CN), must
# exit 0 too, speak Chinese, and say the same numbers as the English run (every
# decimal and 0x number of its output, as a sorted list; the guest's and the
# library's own text is English in both): "EXAMPLE-PASS NAME.zh_CN". A line
# that starts with "*" carries counts measured on the host (example 06: the
# host's own interrupts), which differ from run to run: its numbers are left out.
# Works with busybox sh, grep, sort, cmp and mktemp.
numbers() { grep -v '^\*' "$1" | grep -oE '0x[0-9a-fA-F]+|[0-9]+' | sort; }
out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT
rc=0
for e in "$@"; do
    KVMXX_LANG=en "./$e" >$out/en 2>&1; status=$?
    cat $out/en
    if [ $status -ne 0 ]; then echo "EXAMPLE-FAIL $e (exit $status)"; rc=1
    elif grep -q '示例' $out/en; then echo "EXAMPLE-FAIL $e (KVMXX_LANG=en, but the output is Chinese)"; rc=1
    else echo "EXAMPLE-PASS $e"; fi
    case $e in 0*) ;; *) continue ;; esac
    KVMXX_LANG=zh_CN "./$e" >$out/zh 2>&1; status=$?
    cat $out/zh
    numbers $out/en >$out/numbers.en
    numbers $out/zh >$out/numbers.zh
    n=$(wc -l <$out/numbers.en)
    if [ $status -ne 0 ]; then
        echo "EXAMPLE-FAIL $e.zh_CN (exit $status)"; rc=1
    elif ! grep -q '示例' $out/zh || grep -q '^example [0-9]' $out/zh; then
        echo "EXAMPLE-FAIL $e.zh_CN (the output is not in Chinese)"; rc=1
    elif ! cmp -s $out/numbers.en $out/numbers.zh; then
        echo "EXAMPLE-FAIL $e.zh_CN (numbers differ: en [$(tr '\n' ' ' <$out/numbers.en)] zh [$(tr '\n' ' ' <$out/numbers.zh)])"; rc=1
    else
        echo "EXAMPLE-PASS $e.zh_CN (the same $n numbers as in English)"
    fi
done
exit $rc
