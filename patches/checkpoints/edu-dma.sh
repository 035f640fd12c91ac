# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_edu.rs with a DMA job that probe starts
# and does not wait for (patch 0020). The device takes 100 ms for a
# transfer, so an unbind right after a bind finds the job in flight, and
# the destructor of the driver data must wait for the transfer before the
# DMA buffer is freed.
#
# Sourced by the harness's /init (busybox sh), which provides book_pass,
# book_fail, book_lines, book_counts, book_gained, book_find_dev and
# book_cycles (see ci/guest/init).
#
# Checks:
#   bound        a device is bound to rust_edu
#   dma-started  one "dma: job 2 started, 4096 bytes from the device" line
#   in-flight    unbind, bind, and unbind again at once: the second unbind
#                finds "DMA job 2 in flight", and one more "drop: DMA job 2
#                finished, 4096 bytes from the device" (every word of the
#                buffer written by the device) and "fence: job 2 done
#                (work)" follow it; the device binds again
#   cycle-1..10  unbind: link gone, one more "unbind: N interrupts
#                handled", one more line on the job (in flight or not, as
#                the timing falls), one more "drop: DMA job 2 finished";
#                bind: link back, one more of each factorial line and of
#                "dma: job 2 started"
#   cycles       all 10 cycles passed
#   dma-total    13 bindings, 13 transfers started, 12 unbinds that each
#                waited for a finished transfer, 13 work items run

edu_pfx='rust_edu [0-9a-f:.]+: '
edu_drv=/sys/bus/pci/drivers/rust_edu
edu_facts="${edu_pfx}factorial: 5! = 120 \(irq\)\$
${edu_pfx}factorial: 10! = 3628800 \(irq\)\$
${edu_pfx}factorial: 12! = 479001600 \(irq\)\$"
edu_started="${edu_pfx}dma: job 2 started, 4096 bytes from the device\$"
edu_in_flight="${edu_pfx}unbind: DMA job 2 in flight; [0-9]+ of [0-9]+ unbinds had a job in flight\$"
edu_any_job="${edu_pfx}unbind: (DMA job 2|no job) in flight; [0-9]+ of [0-9]+ unbinds had a job in flight\$"
edu_finished="${edu_pfx}drop: DMA job 2 finished, 4096 bytes from the device\$"
edu_work='rust_edu: fence: job 2 done \(work\)$'

if ! edu_dev=$(book_find_dev rust_edu); then
	book_fail bound "no device under $edu_drv"
	book_fail cycles "no device bound"
else
	book_pass bound

	book_lines dma-started 1 "$edu_started" "\"dma: job 2 started\" line"

	echo "$edu_dev" > "$edu_drv/unbind"
	edu_res="$edu_in_flight
$edu_finished
$edu_work"
	edu_before=$(book_counts "$edu_res")
	# No process starts between the bind and the unbind: the transfer that
	# probe started a moment ago is still running.
	echo "$edu_dev" > "$edu_drv/bind"
	echo "$edu_dev" > "$edu_drv/unbind"
	edu_why=$(book_gained "$edu_res" "$edu_before")
	echo "$edu_dev" > "$edu_drv/bind"
	if [ ! -L "$edu_drv/$edu_dev" ]; then
		book_fail in-flight "${edu_why}the device did not bind again"
	elif [ -n "$edu_why" ]; then
		book_fail in-flight "$edu_why"
	else
		book_pass in-flight
	fi

	book_cycles rust_edu "$edu_dev" 10 \
		"${edu_pfx}unbind: [0-9]+ interrupts handled\$
$edu_any_job
$edu_finished" \
		"$edu_facts
$edu_started"

	# The last binding's transfer takes 100 ms; its work item runs after.
	sleep 1
	edu_totals=$(book_counts "$edu_started
$edu_finished
$edu_work")
	if [ "$edu_totals" = "13 12 13 " ]; then
		book_pass dma-total
	else
		book_fail dma-total "(started, finished, work) = ($edu_totals), want (13 12 13)"
	fi
fi
