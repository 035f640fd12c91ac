# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_testdev.rs with a heartbeat work item
# that owns BAR 0 through devres and outlives each binding.
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
#   drop-first         every drop line comes before the devres line of the
#                      same unbind
#   heartbeat-stops    a second later, exactly 10 "heartbeat: BAR revoked"
#                      lines: one per unbound binding, none for the live one
#   revoke-first       no heartbeat stopped before a release had begun: in
#                      log order, the n-th heartbeat line follows the n-th
#                      devres line
#   unload             rmmod rust_testdev unbinds the device, and returns only
#                      after that binding's heartbeat has stopped: one more
#                      "heartbeat: BAR revoked" line is there when it
#                      returns, so no poll is left to run the module's code

tdh_pfx='rust_testdev [0-9a-f:.]+: '
tdh_probe="${tdh_pfx}probe: test 0 count 1\$"
tdh_drop="${tdh_pfx}drop: test 0 count 1, stopped\$"
tdh_devres="rust_testdev: devres: releasing the device's resources\$"
# The kernel names the device by its driver until device_unbind_cleanup()
# clears it, right after devres_release_all(), and by its bus afterwards: a
# heartbeat that polls in between gets the driver's name.
tdh_stop="(rust_testdev|pci) [0-9a-f:.]+: heartbeat: BAR revoked, stopping after [0-9]+ polls\$"

# tdh_seq: one letter per matching kernel log line, in log order:
# D for a drop, R for a release, H for a heartbeat that stopped.
tdh_seq() {
	dmesg | sed -nE "s/.*${tdh_drop}/D/p; s/.*${tdh_devres}/R/p; s/.*${tdh_stop}/H/p" |
		tr -d '\n'
}

if ! tdh_dev=$(book_find_dev rust_testdev); then
	book_fail bound "no device under /sys/bus/pci/drivers/rust_testdev"
	book_fail cycles "no device bound"
else
	book_pass bound

	book_lines probe 1 "$tdh_probe" "probe line for $tdh_dev"

	book_cycles rust_testdev "$tdh_dev" 10 \
		"${tdh_pfx}unbind: test 0 count 1 after 2 runs\$
$tdh_drop
$tdh_devres" \
		"$tdh_probe"

	# The heartbeats of the old bindings notice the revocation within one
	# polling interval (20 ms); give them a second.
	sleep 1

	tdh_all=$(tdh_seq)
	tdh_dr=$(printf '%s' "$tdh_all" | tr -d H)
	if [ "$tdh_dr" = "DRDRDRDRDRDRDRDRDRDR" ]; then
		book_pass drop-first
	else
		book_fail drop-first "drop/release order is '$tdh_dr', want DR ten times"
	fi

	tdh_h=$(book_count "$tdh_stop")
	if [ "$tdh_h" -eq 10 ]; then
		book_pass heartbeat-stops
	else
		book_fail heartbeat-stops "$tdh_h heartbeats stopped, want 10"
	fi

	tdh_rh=$(printf '%s' "$tdh_all" | tr -d D)
	if printf '%s' "$tdh_rh" | awk '{
		n = 0
		for (i = 1; i <= length($0); i++) {
			c = substr($0, i, 1)
			n += (c == "R") ? 1 : -1
			if (n < 0)
				exit 1
		}
	}'; then
		book_pass revoke-first
	else
		book_fail revoke-first "a heartbeat stopped before its release: '$tdh_rh'"
	fi
	# Unloading unbinds the device, and the module's exit must wait for
	# that binding's last poll, which otherwise comes 20 ms later, in code
	# that is gone. A stray poll would fault within the second of sleep,
	# which fails the boot on its own.
	tdh_h=$(book_count "$tdh_stop")
	if ! rmmod rust_testdev; then
		book_fail unload "rmmod rust_testdev failed"
	elif [ "$(book_count "$tdh_stop")" -ne $((tdh_h + 1)) ]; then
		book_fail unload "rmmod returned before the last heartbeat stopped"
	else
		book_pass unload
	fi
	sleep 1
fi
