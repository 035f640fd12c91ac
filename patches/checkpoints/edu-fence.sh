# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_edu.rs with a job fence signalled from
# the IRQ handler, for each style of the driver's fence code (patch 0012
# and the variants after it). The KUnit suite rust_dma_fence, which runs at
# boot, is checked by the verifier from the KTAP output (`kunit` in the
# manifest), and its test names by the manifest's `expect`.
#
# Sourced by the harness's /init (busybox sh), which provides book_pass,
# book_fail, book_count, book_lines, book_find_dev and book_cycles (see
# ci/guest/init).
#
# Checks:
#   bound              a device is bound to rust_edu
#   factorials         one "factorial: N! = R (irq)" line each for 5!, 10!
#                      and 12!, with the right results
#   fence-signalled    one "fence: job 1 signalled after 3 commands (irq)"
#   fence-released     one "fence: callback ran once, job released"
#   cycle-1..cycle-10  unbind: link gone, one more "unbind: 3 interrupts
#                      handled", "drop: factorial IRQ disabled" and "drop:
#                      IRQ freed, unmapping BAR"; bind: link back, one more
#                      of each factorial line, of the irq-count line and of
#                      both fence lines
#   cycles             all 10 cycles passed
#   fences-total       11 bindings, 11 fences signalled and released

edu_pfx='rust_edu [0-9a-f:.]+: '
edu_facts="${edu_pfx}factorial: 5! = 120 \(irq\)\$
${edu_pfx}factorial: 10! = 3628800 \(irq\)\$
${edu_pfx}factorial: 12! = 479001600 \(irq\)\$"
edu_irqs="${edu_pfx}irq: 3 interrupts for 3 factorials\$"
edu_signalled="${edu_pfx}fence: job 1 signalled after 3 commands \(irq\)\$"
edu_released="${edu_pfx}fence: callback ran once, job released\$"

if ! edu_dev=$(book_find_dev rust_edu); then
	book_fail bound "no device under /sys/bus/pci/drivers/rust_edu"
	book_fail cycles "no device bound"
else
	book_pass bound

	edu_why=$(printf '%s\n' "$edu_facts" | while IFS= read -r edu_re; do
		edu_n=$(book_count "$edu_re")
		[ "$edu_n" -eq 1 ] || printf '/%s/ matches %s lines, want 1; ' "$edu_re" "$edu_n"
	done)
	if [ -z "$edu_why" ]; then
		book_pass factorials
	else
		book_fail factorials "$edu_why"
	fi

	book_lines fence-signalled 1 "$edu_signalled" "\"fence: job 1 signalled\" line"

	book_lines fence-released 1 "$edu_released" "\"job released\" line"

	book_cycles rust_edu "$edu_dev" 10 \
		"${edu_pfx}unbind: 3 interrupts handled\$
${edu_pfx}drop: factorial IRQ disabled\$
${edu_pfx}drop: IRQ freed, unmapping BAR\$" \
		"$edu_facts
$edu_irqs
$edu_signalled
$edu_released"

	edu_s=$(book_count "$edu_signalled")
	edu_r=$(book_count "$edu_released")
	if [ "$edu_s" -eq 11 ] && [ "$edu_r" -eq 11 ]; then
		book_pass fences-total
	else
		book_fail fences-total "(signalled, released) = ($edu_s, $edu_r), want (11, 11)"
	fi
fi
