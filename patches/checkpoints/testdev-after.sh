# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_testdev.rs (driver data borrowing the
# device and BAR for the binding scope).
#
# Sourced by the harness's /init (busybox sh), which provides book_pass,
# book_fail, book_count, book_lines, book_find_dev and book_cycles (see
# ci/guest/init).
#
# Checks:
#   bound              a device is bound to rust_testdev
#   probe              exactly one "probe: test 0 count 1" line so far
#   cycle-1..cycle-10  unbind: link gone, one more "unbind: test 0 count 1"
#                      and one more "drop: BAR reset";
#                      bind: link back, one more "probe: test 0 count 1"
#   cycles             all 10 cycles passed
#   drop-reset         exactly 10 "drop: BAR reset" lines

tda_pfx='rust_testdev [0-9a-f:.]+: '
tda_probe="${tda_pfx}probe: test 0 count 1\$"
tda_reset="${tda_pfx}drop: BAR reset\$"

if ! tda_dev=$(book_find_dev rust_testdev); then
	book_fail bound "no device under /sys/bus/pci/drivers/rust_testdev"
	book_fail cycles "no device bound"
else
	book_pass bound

	book_lines probe 1 "$tda_probe" "probe line for $tda_dev"

	book_cycles rust_testdev "$tda_dev" 10 \
		"${tda_pfx}unbind: test 0 count 1\$
$tda_reset" \
		"$tda_probe"

	# The final bind is still live, so there is one reset per cycle.
	tda_m=$(book_count "$tda_reset")
	if [ "$tda_m" -eq 10 ]; then
		book_pass drop-reset
	else
		book_fail drop-reset "$tda_m \"drop: BAR reset\" lines, want 10"
	fi
fi
