#!/bin/sh
# Inside the testbed: runs each example named on the command line, in order.
rc=0
for e in "$@"; do
    if "./$e"; then echo "EXAMPLE-PASS $e"; else echo "EXAMPLE-FAIL $e (exit $?)"; rc=1; fi
done
exit $rc
