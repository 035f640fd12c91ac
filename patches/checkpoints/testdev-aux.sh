# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_testdev.rs (BAR 0 shared with two
# auxiliary devices through registration data).
#
# Sourced by the harness's /init (busybox sh), which provides book_pass,
# book_fail, book_count, book_lines, book_find_dev and book_cycles (see
# ci/guest/init).
#
# Checks:
#   bound              a device is bound to rust_testdev
#   probe              exactly one parent "probe: test 0 count 1" line so far
#   aux-devices        rust_testdev.shared.N and rust_testdev.locked.N exist
#   aux-bound          both are bound to the auxiliary driver
#   shared-probe       one "probe: parent BAR test 0 count 1" from shared
#   locked-probe       one "probe: parent BAR test 0 count 1, bind 1" from
#                      locked
#   locked-rebind      unbinding and binding locked alone: "bind 1" on
#                      unbind, "bind 2" on probe (the mutex-protected state
#                      outlives the child's binding)
#   cycle-1..cycle-10  parent unbind: link gone, one more parent unbind line,
#                      shared and locked unbind line and a parent drop line;
#                      parent bind: link back, one more parent probe line,
#                      shared probe line and locked "bind 1" probe line
#   cycles             all 10 cycles passed
#   aux-unregistered   after an 11th parent unbind, no auxiliary device of
#                      the parent is left
#   aux-registered     after the rebind, both are back and bound
#   locked-state       12 "bind 1" and 1 "bind 2" probe lines from locked:
#                      each parent binding starts with fresh state
#   drop-order         each parent drop line comes after the shared and
#                      locked unbind lines of the same parent unbind
#   drop-reset         exactly 11 "drop: test 0 count 1, stopped" lines

tdx_pfx='rust_testdev [0-9a-f:.]+: '
tdx_sh_pfx='rust_testdev\.rust_testdev rust_testdev\.shared\.[0-9]+: '
tdx_lk_pfx='rust_testdev\.rust_testdev rust_testdev\.locked\.[0-9]+: '
tdx_probe="${tdx_pfx}probe: test 0 count 1\$"
tdx_unbind="${tdx_pfx}unbind: test 0 count 1 after 2 runs\$"
tdx_reset="${tdx_pfx}drop: test 0 count 1, stopped\$"
tdx_sh_probe="${tdx_sh_pfx}probe: parent BAR test 0 count 1\$"
tdx_sh_unbind="${tdx_sh_pfx}unbind: parent BAR test 0 count 1\$"
tdx_lk_probe="${tdx_lk_pfx}probe: parent BAR test 0 count 1, bind"
tdx_lk_unbind="${tdx_lk_pfx}unbind: parent BAR test 0 count 1, bind"
tdx_auxdrv=/sys/bus/auxiliary/drivers/rust_testdev.rust_testdev
tdx_pcidrv=/sys/bus/pci/drivers/rust_testdev

# tdx_aux NAME: prints the auxiliary device rust_testdev.NAME.N; fails if
# there is none.
tdx_aux() {
	for ta_l in /sys/bus/auxiliary/devices/rust_testdev."$1".*; do
		if [ -e "$ta_l" ]; then
			echo "${ta_l##*/}"
			return 0
		fi
	done
	return 1
}

# tdx_aux_bound: both auxiliary devices exist and are bound to the
# auxiliary driver; otherwise prints why.
tdx_aux_bound() {
	for tb_n in shared locked; do
		if ! tb_d=$(tdx_aux $tb_n); then
			echo "no rust_testdev.$tb_n.* device; "
		elif [ ! -L "$tdx_auxdrv/$tb_d" ]; then
			echo "$tb_d not bound; "
		fi
	done
}

if ! tdx_dev=$(book_find_dev rust_testdev); then
	book_fail bound "no device under $tdx_pcidrv"
	book_fail cycles "no device bound"
else
	book_pass bound

	book_lines probe 1 "$tdx_probe" "probe line for $tdx_dev"

	if tdx_sh=$(tdx_aux shared) && tdx_lk=$(tdx_aux locked); then
		book_pass aux-devices
	else
		book_fail aux-devices "missing under /sys/bus/auxiliary/devices:" \
			"$(ls /sys/bus/auxiliary/devices)"
	fi

	tdx_why=$(tdx_aux_bound)
	if [ -z "$tdx_why" ]; then
		book_pass aux-bound
	else
		book_fail aux-bound "$tdx_why"
	fi

	book_lines shared-probe 1 "$tdx_sh_probe" "shared probe line"

	book_lines locked-probe 1 "$tdx_lk_probe 1\$" "locked \"bind 1\" probe line"

	# The locked child alone: its state lives in the parent's registration,
	# so the next binding of the child sees the count of the previous one.
	tdx_b0=$(book_counts "$tdx_lk_unbind 1\$
$tdx_lk_probe 2\$")
	tdx_why=
	if ! echo "$tdx_lk" > "$tdx_auxdrv/unbind"; then
		tdx_why="unbind write failed; "
	elif [ -L "$tdx_auxdrv/$tdx_lk" ]; then
		tdx_why="still bound after unbind; "
	fi
	if ! echo "$tdx_lk" > "$tdx_auxdrv/bind"; then
		tdx_why="${tdx_why}bind write failed; "
	elif [ ! -L "$tdx_auxdrv/$tdx_lk" ]; then
		tdx_why="${tdx_why}not bound after bind; "
	fi
	tdx_why="$tdx_why$(book_gained "$tdx_lk_unbind 1\$
$tdx_lk_probe 2\$" "$tdx_b0")"
	if [ -z "$tdx_why" ]; then
		book_pass locked-rebind
	else
		book_fail locked-rebind "$tdx_why"
	fi

	# Unbinding the parent unregisters both auxiliary devices, which
	# unbinds them first; binding it registers new ones with fresh data.
	book_cycles rust_testdev "$tdx_dev" 10 \
		"$tdx_unbind
$tdx_sh_unbind
$tdx_lk_unbind [0-9]+\$
$tdx_reset" \
		"$tdx_probe
$tdx_sh_probe
$tdx_lk_probe 1\$"

	# An 11th cycle by hand, to look at the auxiliary bus in between.
	echo "$tdx_dev" > "$tdx_pcidrv/unbind"
	tdx_left=$(ls /sys/bus/auxiliary/devices | grep '^rust_testdev\.')
	if [ -z "$tdx_left" ] && [ ! -L "$tdx_pcidrv/$tdx_dev" ]; then
		book_pass aux-unregistered
	else
		book_fail aux-unregistered "left after parent unbind: $tdx_left"
	fi
	echo "$tdx_dev" > "$tdx_pcidrv/bind"
	tdx_why=$(tdx_aux_bound)
	if [ -z "$tdx_why" ] && [ -L "$tdx_pcidrv/$tdx_dev" ]; then
		book_pass aux-registered
	else
		book_fail aux-registered "after parent bind: $tdx_why"
	fi

	# Boot, 10 cycles and the 11th: fresh state each time; the one child
	# rebind above is the only "bind 2".
	tdx_n=$(book_count "$tdx_lk_probe 1\$")
	tdx_m=$(book_count "$tdx_lk_probe 2\$")
	tdx_k=$(book_count "$tdx_lk_probe [0-9]+\$")
	if [ "$tdx_n" -eq 12 ] && [ "$tdx_m" -eq 1 ] && [ "$tdx_k" -eq 13 ]; then
		book_pass locked-state
	else
		book_fail locked-state "locked probes: $tdx_n \"bind 1\", $tdx_m \"bind 2\"," \
			"$tdx_k in all; want 12, 1, 13"
	fi

	# Per parent unbind: the children are unbound before the parent's Drop
	# resets the test, and so before BAR 0 is unmapped.
	tdx_bad=$(dmesg | awk -v u="$tdx_unbind" -v s="$tdx_sh_unbind" \
		-v l="$tdx_lk_unbind [0-9]+\$" -v r="$tdx_reset" '
		$0 ~ u { seen_s = 0; seen_l = 0 }
		$0 ~ s { seen_s = 1 }
		$0 ~ l { seen_l = 1 }
		$0 ~ r { n++; if (!seen_s || !seen_l) bad++ }
		END { printf "%d %d", n, bad }')
	if [ "$tdx_bad" = "11 0" ]; then
		book_pass drop-order
	else
		book_fail drop-order "resets, out of order: $tdx_bad; want 11 0"
	fi

	tdx_m=$(book_count "$tdx_reset")
	if [ "$tdx_m" -eq 11 ]; then
		book_pass drop-reset
	else
		book_fail drop-reset "$tdx_m drop lines, want 11"
	fi
fi
