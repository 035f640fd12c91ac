# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_testdev.rs (Devres style).
#
# Sourced by the harness's /init (busybox sh), which provides book_pass,
# book_fail, book_count, book_lines, book_find_dev and book_cycles (see
# ci/guest/init).
#
# Checks:
#   bound              a device is bound to rust_testdev
#   probe              exactly one "probe: test 0 count 1" line so far
#   cycle-1..cycle-10  unbind: link gone, one more "unbind: test 0 count 1"
#                      and one more "drop: BAR still mapped, test reset";
#                      bind: link back, one more "probe: test 0 count 1"
#   cycles             all 10 cycles passed
#   drop-before-revoke 10 "still mapped" drops and no "already revoked" one

tdb_pfx='rust_testdev [0-9a-f:.]+: '
tdb_probe="${tdb_pfx}probe: test 0 count 1\$"
tdb_mapped="${tdb_pfx}drop: BAR still mapped, test reset\$"

if ! tdb_dev=$(book_find_dev rust_testdev); then
	book_fail bound "no device under /sys/bus/pci/drivers/rust_testdev"
	book_fail cycles "no device bound"
else
	book_pass bound

	book_lines probe 1 "$tdb_probe" "probe line for $tdb_dev"

	book_cycles rust_testdev "$tdb_dev" 10 \
		"${tdb_pfx}unbind: test 0 count 1\$
$tdb_mapped" \
		"$tdb_probe"

	# The final bind is still live, so there is one drop per cycle.
	tdb_m=$(book_count "$tdb_mapped")
	tdb_r=$(book_count "${tdb_pfx}drop: BAR already revoked\$")
	if [ "$tdb_m" -eq 10 ] && [ "$tdb_r" -eq 0 ]; then
		book_pass drop-before-revoke
	else
		book_fail drop-before-revoke "still mapped: $tdb_m (want 10), revoked: $tdb_r (want 0)"
	fi
fi
