# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_testdev.rs (Devres style).
#
# Sourced by the initramfs /init (busybox sh). Uses only busybox commands and
# the harness functions book_pass NAME / book_fail NAME WHY...; never exits.
#
# Checks:
#   bound              a device is bound to rust_testdev
#   probe              dmesg has exactly one "probe: test 0 count 1" line for it
#   cycle-1..cycle-10  unbind: link gone, one more "unbind: test 0 count 1"
#                      and one more "drop: BAR still mapped, test reset";
#                      bind: link back, one more "probe: test 0 count 1"
#   cycles             all 10 cycles passed
#   drop-before-revoke 10 "still mapped" drops and no "already revoked" one

tdb_drv=/sys/bus/pci/drivers/rust_testdev
tdb_cycles=10

# tdb_count ERE: number of dmesg lines matching ERE.
tdb_count() {
	dmesg | grep -cE "$1"
}

tdb_dev=
for tdb_l in "$tdb_drv"/????:??:??.?; do
	if [ -L "$tdb_l" ]; then
		tdb_dev=${tdb_l##*/}
		break
	fi
done

if [ -z "$tdb_dev" ]; then
	book_fail bound "no device under $tdb_drv"
	book_fail probe "no device bound"
	book_fail cycles "no device bound"
	book_fail drop-before-revoke "no device bound"
else
	book_pass bound

	tdb_pfx="rust_testdev $(echo "$tdb_dev" | sed 's/\./\\./g'): "
	tdb_probe_re="${tdb_pfx}probe: test 0 count 1\$"
	tdb_unbind_re="${tdb_pfx}unbind: test 0 count 1\$"
	tdb_mapped_re="${tdb_pfx}drop: BAR still mapped, test reset\$"
	tdb_revoked_re="${tdb_pfx}drop: BAR already revoked\$"

	tdb_n=$(tdb_count "$tdb_probe_re")
	if [ "$tdb_n" -eq 1 ]; then
		book_pass probe
	else
		book_fail probe "expected 1 probe line for $tdb_dev, found $tdb_n"
	fi

	tdb_i=1
	tdb_ok=0
	while [ "$tdb_i" -le "$tdb_cycles" ]; do
		tdb_why=
		tdb_p0=$(tdb_count "$tdb_probe_re")
		tdb_u0=$(tdb_count "$tdb_unbind_re")
		tdb_d0=$(tdb_count "$tdb_mapped_re")

		if ! echo "$tdb_dev" > "$tdb_drv/unbind"; then
			tdb_why="unbind write failed"
		elif [ -L "$tdb_drv/$tdb_dev" ]; then
			tdb_why="still bound after unbind"
		elif [ "$(tdb_count "$tdb_unbind_re")" -ne $((tdb_u0 + 1)) ]; then
			tdb_why="unbind line count $(tdb_count "$tdb_unbind_re"), want $((tdb_u0 + 1))"
		elif [ "$(tdb_count "$tdb_mapped_re")" -ne $((tdb_d0 + 1)) ]; then
			tdb_why="drop line count $(tdb_count "$tdb_mapped_re"), want $((tdb_d0 + 1))"
		fi

		# Rebind even if the unbind checks failed, so later cycles can run.
		if [ -L "$tdb_drv/$tdb_dev" ]; then
			:
		elif ! echo "$tdb_dev" > "$tdb_drv/bind"; then
			tdb_why="${tdb_why:+$tdb_why; }bind write failed"
		fi
		if [ -z "$tdb_why" ]; then
			if [ ! -L "$tdb_drv/$tdb_dev" ]; then
				tdb_why="not bound after bind"
			elif [ "$(tdb_count "$tdb_probe_re")" -ne $((tdb_p0 + 1)) ]; then
				tdb_why="probe line count $(tdb_count "$tdb_probe_re"), want $((tdb_p0 + 1))"
			fi
		fi

		if [ -z "$tdb_why" ]; then
			book_pass "cycle-$tdb_i"
			tdb_ok=$((tdb_ok + 1))
		else
			book_fail "cycle-$tdb_i" "$tdb_why"
		fi
		tdb_i=$((tdb_i + 1))
	done

	if [ "$tdb_ok" -eq "$tdb_cycles" ]; then
		book_pass cycles
	else
		book_fail cycles "$tdb_ok of $tdb_cycles cycles passed"
	fi

	# The final bind is still live, so there is one drop per cycle.
	tdb_m=$(tdb_count "$tdb_mapped_re")
	tdb_r=$(tdb_count "$tdb_revoked_re")
	if [ "$tdb_m" -eq "$tdb_cycles" ] && [ "$tdb_r" -eq 0 ]; then
		book_pass drop-before-revoke
	else
		book_fail drop-before-revoke "still mapped: $tdb_m (want $tdb_cycles), revoked: $tdb_r (want 0)"
	fi
fi
