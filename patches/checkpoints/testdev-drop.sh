# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_testdev.rs with a destructor that checks
# the device, and a devres resource that reports its release.
#
# Sourced by the harness's /init (busybox sh), which provides book_pass,
# book_fail, book_count, book_lines, book_find_dev and book_cycles (see
# ci/guest/init).
#
# Checks:
#   bound              a device is bound to rust_testdev
#   probe              exactly one "probe: test 0 count 1" line so far
#   cycle-1..cycle-10  unbind: link gone, and one more of each of
#                      "unbind: test 0 count 1 after 2 runs",
#                      "drop: test 0 count 1, stopped" and
#                      "devres: releasing the device's resources";
#                      bind: link back, one more "probe: test 0 count 1"
#   cycles             all 10 cycles passed
#   drop-checks        no "drop: device check failed" line
#   drop-first         in the kernel log, every drop line comes before the
#                      devres line of the same unbind: the driver data is
#                      dropped before devres_release_all(), 10 times

tdd_pfx='rust_testdev [0-9a-f:.]+: '
tdd_probe="${tdd_pfx}probe: test 0 count 1\$"
tdd_drop="${tdd_pfx}drop: test 0 count 1, stopped\$"
tdd_devres="rust_testdev: devres: releasing the device's resources\$"

if ! tdd_dev=$(book_find_dev rust_testdev); then
	book_fail bound "no device under /sys/bus/pci/drivers/rust_testdev"
	book_fail cycles "no device bound"
else
	book_pass bound

	book_lines probe 1 "$tdd_probe" "probe line for $tdd_dev"

	book_cycles rust_testdev "$tdd_dev" 10 \
		"${tdd_pfx}unbind: test 0 count 1 after 2 runs\$
$tdd_drop
$tdd_devres" \
		"$tdd_probe"

	tdd_bad=$(book_count "${tdd_pfx}drop: device check failed")
	if [ "$tdd_bad" -eq 0 ]; then
		book_pass drop-checks
	else
		book_fail drop-checks "$tdd_bad failed device checks in drop"
	fi

	# One letter per line, in log order: D for a drop, R for a release.
	tdd_seq=$(dmesg | sed -nE "s/.*${tdd_drop}/D/p; s/.*${tdd_devres}/R/p" |
		tr -d '\n')
	if [ "$tdd_seq" = "DRDRDRDRDRDRDRDRDRDR" ]; then
		book_pass drop-first
	else
		book_fail drop-first "drop/release order is '$tdd_seq', want DR ten times"
	fi
fi
