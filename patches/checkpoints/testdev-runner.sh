# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_testdev.rs with the test runner borrowing
# BAR 0 from the driver data.
#
# Sourced by the harness's /init (busybox sh), which provides book_pass,
# book_fail, book_count, book_lines, book_find_dev and book_cycles (see
# ci/guest/init).
#
# Checks:
#   bound              a device is bound to rust_testdev
#   probe              exactly one "probe: test 0 count 1" line so far
#   cycle-1..cycle-10  unbind: link gone, one more "unbind: test 0 count 1
#                      after 2 runs" (the runner is new for every binding)
#                      and one more "drop: BAR reset";
#                      bind: link back, one more "probe: test 0 count 1"
#   cycles             all 10 cycles passed

tdr_pfx='rust_testdev [0-9a-f:.]+: '
tdr_probe="${tdr_pfx}probe: test 0 count 1\$"

if ! tdr_dev=$(book_find_dev rust_testdev); then
	book_fail bound "no device under /sys/bus/pci/drivers/rust_testdev"
	book_fail cycles "no device bound"
else
	book_pass bound

	book_lines probe 1 "$tdr_probe" "probe line for $tdr_dev"

	book_cycles rust_testdev "$tdr_dev" 10 \
		"${tdr_pfx}unbind: test 0 count 1 after 2 runs\$
${tdr_pfx}drop: BAR reset\$" \
		"$tdr_probe"
fi
