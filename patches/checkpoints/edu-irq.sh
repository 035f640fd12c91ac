# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for samples/rust/rust_edu.rs (an IRQ handler registered for
# the binding scope, owning the BAR it reads in interrupt context).
#
# Sourced by the harness's /init (busybox sh), which provides book_pass,
# book_fail, book_count, book_lines, book_find_dev and book_cycles (see
# ci/guest/init).
#
# Checks:
#   bound              a device is bound to rust_edu
#   factorials         one "factorial: N! = R (irq)" line each for 5!, 10!
#                      and 12!, with the right results
#   irq-count          the driver counted 3 interrupts for its 3 factorials
#   proc-interrupts    /proc/interrupts has a rust_edu line that counted at
#                      least those 3 interrupts
#   cycle-1..cycle-10  unbind: link gone, one more "unbind: 3 interrupts
#                      handled", "drop: factorial IRQ disabled" and "drop:
#                      IRQ freed, unmapping BAR"; bind: link back, one more
#                      of each factorial line and of the irq-count line
#   cycles             all 10 cycles passed
#   proc-interrupts-cycles  the rust_edu line is back after the cycles; for
#                      an INTx line, which keeps its count across bindings,
#                      it counted at least 10 * 3 more interrupts
#   drop-order         10 "IRQ freed" lines, each right after a "factorial
#                      IRQ disabled" line of the same device

edu_pfx='rust_edu [0-9a-f:.]+: '
edu_facts="${edu_pfx}factorial: 5! = 120 \(irq\)\$
${edu_pfx}factorial: 10! = 3628800 \(irq\)\$
${edu_pfx}factorial: 12! = 479001600 \(irq\)\$"
edu_irqs="${edu_pfx}irq: 3 interrupts for 3 factorials\$"
edu_disabled="${edu_pfx}drop: factorial IRQ disabled\$"
edu_freed="${edu_pfx}drop: IRQ freed, unmapping BAR\$"

# edu_proc: the line of /proc/interrupts whose action is rust_edu.
edu_proc() {
	grep -E ' rust_edu$' /proc/interrupts
}

# edu_proc_count: the interrupts that line counted, summed over all CPUs.
edu_proc_count() {
	edu_proc | awk '{ n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }'
}

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

	book_lines irq-count 1 "$edu_irqs" "\"irq: 3 interrupts\" line"

	edu_line=$(edu_proc)
	edu_before=$(edu_proc_count)
	echo "edu-irq: /proc/interrupts: $edu_line"
	if [ -n "$edu_line" ] && [ "${edu_before:-0}" -ge 3 ]; then
		book_pass proc-interrupts
	else
		book_fail proc-interrupts "rust_edu line \"$edu_line\", want a count >= 3"
	fi

	book_cycles rust_edu "$edu_dev" 10 \
		"${edu_pfx}unbind: 3 interrupts handled\$
$edu_disabled
$edu_freed" \
		"$edu_facts
$edu_irqs"

	edu_line=$(edu_proc)
	edu_after=$(edu_proc_count)
	echo "edu-irq: /proc/interrupts: $edu_line"
	case $edu_line in
	*PCI-MSI*) edu_want=3 ;;
	*) edu_want=$((${edu_before:-0} + 30)) ;;
	esac
	if [ -n "$edu_line" ] && [ "${edu_after:-0}" -ge "$edu_want" ]; then
		book_pass proc-interrupts-cycles
	else
		book_fail proc-interrupts-cycles \
			"rust_edu line \"$edu_line\", want a count >= $edu_want"
	fi

	# The final bind is still live, so there is one teardown per cycle.
	edu_pairs=$(dmesg | grep -E "$edu_pfx" | awk -v d="$edu_disabled" -v f="$edu_freed" '
		$0 ~ f { if (prev ~ d) ok++; else bad++ }
		{ prev = $0 }
		END { print ok + 0, bad + 0 }')
	if [ "$edu_pairs" = "10 0" ]; then
		book_pass drop-order
	else
		book_fail drop-order "(in order, out of order) = ($edu_pairs), want (10 0)"
	fi
fi
