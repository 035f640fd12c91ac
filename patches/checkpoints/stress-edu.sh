# SPDX-License-Identifier: GPL-2.0
#
# Debug-pass checkpoint for rust_edu at the tip of the series: an IRQ
# handler registered for the binding scope, three interrupt-driven
# factorials per probe, on a kernel with KASAN, lockdep, kmemleak, debug
# objects and failslab (kernel-config/debug.config), the sample a module.
#
# Sourced by the harness's /init, which provides the book_* library and
# BOOK_CYCLES and BOOK_RELOADS (see ci/guest/init).
#
# Checks:
#   bound       a device is bound to rust_edu
#   stress      BOOK_CYCLES unbind/bind cycles, each one re-probed (and so
#               three more factorials with their interrupts)
#   fail-nth    every injected allocation failure on the bind path leaves
#               the device unbound; it binds normally afterwards
#   reload      BOOK_RELOADS times rmmod rust_edu, which unbinds the
#               device, and insmod, which probes it again
#   kmemleak    no suspected leaks after all of it
# Figures: rust_edu.cycles, rust_edu.fail_points, rust_edu.reloads,
# kmemleak.leaks.

if ! sde_dev=$(book_find_dev rust_edu); then
	book_fail bound "no device under /sys/bus/pci/drivers/rust_edu"
else
	book_pass bound
	book_stress rust_edu "$sde_dev" "$BOOK_CYCLES"
	book_fail_nth rust_edu "$sde_dev"
	book_reload rust_edu rust_edu "$sde_dev" "$BOOK_RELOADS"
fi
book_kmemleak
