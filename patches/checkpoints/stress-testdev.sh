# SPDX-License-Identifier: GPL-2.0
#
# Debug-pass checkpoint for rust_testdev at the tip of the series: the PCI
# driver with its heartbeat work item, its test runner and its two
# auxiliary children, on a kernel with KASAN, lockdep, kmemleak, debug
# objects and failslab (kernel-config/debug.config), the sample a module.
#
# Sourced by the harness's /init, which provides the book_* library and
# BOOK_CYCLES and BOOK_RELOADS (see ci/guest/init).
#
# Checks:
#   bound       a device is bound to rust_testdev, with both children
#   stress      BOOK_CYCLES unbind/bind cycles, each one re-probed
#   children    afterwards both auxiliary devices are bound again
#   fail-nth    every injected allocation failure on the bind path leaves
#               the device unbound; it binds normally afterwards
#   children-2  and the children are back once more
#   reload      BOOK_RELOADS times rmmod and insmod: each rmmod unbinds the
#               device and flushes its heartbeat, each insmod binds it again
#   children-3  and the children are back after the last insmod
#   kmemleak    no suspected leaks after all of it
# Figures: rust_testdev.cycles, rust_testdev.fail_points,
# rust_testdev.reloads, kmemleak.leaks.
#
# Splats (KASAN, lockdep, WARNING, refcount, ...) fail the boot on their own.
# The reloads are what found the heartbeat bug described in the book's
# "The way back: into_devres()" chapter: before patch 0006 flushed
# its heartbeats on module exit, the last poll after rmmod ran code of the
# unloaded module.

sdt_aux=/sys/bus/auxiliary/drivers/rust_testdev.rust_testdev

# sdt_children: both auxiliary children are bound.
sdt_children() {
	[ -n "$(ls -d "$sdt_aux"/rust_testdev.shared.* 2>/dev/null)" ] &&
		[ -n "$(ls -d "$sdt_aux"/rust_testdev.locked.* 2>/dev/null)" ]
}

if ! sdt_dev=$(book_find_dev rust_testdev); then
	book_fail bound "no device under /sys/bus/pci/drivers/rust_testdev"
elif ! sdt_children; then
	book_fail bound "the auxiliary children are not bound"
else
	book_pass bound
	book_stress rust_testdev "$sdt_dev" "$BOOK_CYCLES"
	if sdt_children; then
		book_pass children
	else
		book_fail children "the auxiliary children did not come back"
	fi
	book_fail_nth rust_testdev "$sdt_dev"
	if sdt_children; then
		book_pass children-2
	else
		book_fail children-2 "the auxiliary children did not come back after fail-nth"
	fi
	book_reload rust_testdev rust_testdev "$sdt_dev" "$BOOK_RELOADS"
	if sdt_children; then
		book_pass children-3
	else
		book_fail children-3 "the auxiliary children did not come back after the reloads"
	fi
fi
# Let the old bindings' heartbeats notice their revoked BARs and exit.
sleep 1
book_kmemleak
