# SPDX-License-Identifier: GPL-2.0
#
# Debug-pass checkpoint for rust_edu at the tip of the series: an IRQ
# handler registered for the binding scope, three interrupt-driven
# factorials per probe, and a DMA job that probe leaves in flight, on a
# kernel with KASAN, lockdep, kmemleak, debug objects and failslab
# (kernel-config/debug.config), the sample a module.
#
# Sourced by the harness's /init, which provides the book_* library and
# BOOK_CYCLES and BOOK_RELOADS (see ci/guest/init).
#
# Checks:
#   bound       a device is bound to rust_edu
#   stress      BOOK_CYCLES unbind/bind cycles, each one re-probed (and so
#               three more factorials with their interrupts, and one more
#               DMA transfer started)
#   in-flight   the driver's own count: of the BOOK_CYCLES unbinds, how
#               many found the DMA job still in flight and waited for it;
#               at least one must have
#   fail-nth    every injected allocation failure on the bind path leaves
#               the device unbound; it binds normally afterwards
#   reload      BOOK_RELOADS times rmmod rust_edu, which unbinds the
#               device, and insmod, which probes it again
#   kmemleak    no suspected leaks after all of it
# Figures: rust_edu.cycles, rust_edu.in_flight, rust_edu.fail_points,
# rust_edu.reloads, kmemleak.leaks.

if ! sde_dev=$(book_find_dev rust_edu); then
	book_fail bound "no device under /sys/bus/pci/drivers/rust_edu"
else
	book_pass bound
	book_stress rust_edu "$sde_dev" "$BOOK_CYCLES"
	# "unbind: ...; K of N unbinds had a job in flight", counted by the
	# driver since the module was loaded at boot: N is the stress's unbinds.
	sde_kn=$(dmesg | sed -nE 's/.*; ([0-9]+) of ([0-9]+) unbinds had a job in flight$/\1 \2/p' | tail -n 1)
	sde_k=${sde_kn% *}
	book_figure rust_edu.in_flight "${sde_k:-0}"
	if [ -z "$sde_kn" ]; then
		book_fail in-flight "no \"unbinds had a job in flight\" line"
	elif [ "${sde_kn#* }" -ne "$BOOK_CYCLES" ]; then
		book_fail in-flight "the driver counted ${sde_kn#* } unbinds, want $BOOK_CYCLES"
	elif [ "$sde_k" -eq 0 ]; then
		book_fail in-flight "no unbind found the DMA job in flight"
	else
		book_pass in-flight
	fi
	book_fail_nth rust_edu "$sde_dev"
	book_reload rust_edu rust_edu "$sde_dev" "$BOOK_RELOADS"
fi
book_kmemleak
