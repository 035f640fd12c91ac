# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_testdev.rs (driver data borrowing the device
# and BAR for the binding scope).
#
# Sourced by the initramfs /init (busybox sh). Uses only busybox commands and
# the harness functions book_pass NAME / book_fail NAME WHY...; never exits.
#
# Checks:
#   bound              a device is bound to rust_testdev
#   probe              dmesg has exactly one "probe: test 0 count 1" line for it
#   cycle-1..cycle-10  unbind: link gone, one more "unbind: test 0 count 1"
#                      and one more "drop: BAR reset";
#                      bind: link back, one more "probe: test 0 count 1"
#   cycles             all 10 cycles passed
#   drop-reset         exactly 10 "drop: BAR reset" lines

tda_drv=/sys/bus/pci/drivers/rust_testdev
tda_cycles=10

# tda_count ERE: number of dmesg lines matching ERE.
tda_count() {
	dmesg | grep -cE "$1"
}

tda_dev=
for tda_l in "$tda_drv"/????:??:??.?; do
	if [ -L "$tda_l" ]; then
		tda_dev=${tda_l##*/}
		break
	fi
done

if [ -z "$tda_dev" ]; then
	book_fail bound "no device under $tda_drv"
	book_fail probe "no device bound"
	book_fail cycles "no device bound"
	book_fail drop-reset "no device bound"
else
	book_pass bound

	tda_pfx="rust_testdev $(echo "$tda_dev" | sed 's/\./\\./g'): "
	tda_probe_re="${tda_pfx}probe: test 0 count 1\$"
	tda_unbind_re="${tda_pfx}unbind: test 0 count 1\$"
	tda_drop_re="${tda_pfx}drop: BAR reset\$"

	tda_n=$(tda_count "$tda_probe_re")
	if [ "$tda_n" -eq 1 ]; then
		book_pass probe
	else
		book_fail probe "expected 1 probe line for $tda_dev, found $tda_n"
	fi

	tda_i=1
	tda_ok=0
	while [ "$tda_i" -le "$tda_cycles" ]; do
		tda_why=
		tda_p0=$(tda_count "$tda_probe_re")
		tda_u0=$(tda_count "$tda_unbind_re")
		tda_d0=$(tda_count "$tda_drop_re")

		if ! echo "$tda_dev" > "$tda_drv/unbind"; then
			tda_why="unbind write failed"
		elif [ -L "$tda_drv/$tda_dev" ]; then
			tda_why="still bound after unbind"
		elif [ "$(tda_count "$tda_unbind_re")" -ne $((tda_u0 + 1)) ]; then
			tda_why="unbind line count $(tda_count "$tda_unbind_re"), want $((tda_u0 + 1))"
		elif [ "$(tda_count "$tda_drop_re")" -ne $((tda_d0 + 1)) ]; then
			tda_why="drop line count $(tda_count "$tda_drop_re"), want $((tda_d0 + 1))"
		fi

		# Rebind even if the unbind checks failed, so later cycles can run.
		if [ -L "$tda_drv/$tda_dev" ]; then
			:
		elif ! echo "$tda_dev" > "$tda_drv/bind"; then
			tda_why="${tda_why:+$tda_why; }bind write failed"
		fi
		if [ -z "$tda_why" ]; then
			if [ ! -L "$tda_drv/$tda_dev" ]; then
				tda_why="not bound after bind"
			elif [ "$(tda_count "$tda_probe_re")" -ne $((tda_p0 + 1)) ]; then
				tda_why="probe line count $(tda_count "$tda_probe_re"), want $((tda_p0 + 1))"
			fi
		fi

		if [ -z "$tda_why" ]; then
			book_pass "cycle-$tda_i"
			tda_ok=$((tda_ok + 1))
		else
			book_fail "cycle-$tda_i" "$tda_why"
		fi
		tda_i=$((tda_i + 1))
	done

	if [ "$tda_ok" -eq "$tda_cycles" ]; then
		book_pass cycles
	else
		book_fail cycles "$tda_ok of $tda_cycles cycles passed"
	fi

	# The final bind is still live, so there is one drop per cycle.
	tda_d=$(tda_count "$tda_drop_re")
	if [ "$tda_d" -eq "$tda_cycles" ]; then
		book_pass drop-reset
	else
		book_fail drop-reset "drop: BAR reset lines: $tda_d (want $tda_cycles)"
	fi
fi
