# SPDX-License-Identifier: GPL-2.0
#
# Checkpoint for rust/kernel/dma_fence.rs: the KUnit suite rust_dma_fence,
# run at boot with CONFIG_KUNIT=y.
#
# Sourced by the harness's /init (busybox sh), which provides book_pass,
# book_fail and book_count (see ci/guest/init).
#
# Checks:
#   kunit-suite        the boot-time KTAP output has "ok N rust_dma_fence"
#                      and the suite's "pass:7 fail:0" summary line
#   kunit-<test>       one "ok N <test>" line for each test of the suite
#   kunit-no-failures  no "not ok" line anywhere in the KTAP output

# KTAP lines as dmesg shows them: a timestamp, then the line, whose
# indentation gives its level (none for the suite, four spaces for a test).
ktap_suite='^\[ *[0-9.]+\] ok [0-9]+ rust_dma_fence$'
ktap_summary='^\[ *[0-9.]+\] # rust_dma_fence: pass:7 fail:0 skip:0 total:7$'
ktap_tests='signal names callback_once callback_remove error release_once optional_ops'

if [ "$(book_count "$ktap_suite")" -eq 1 ] && [ "$(book_count "$ktap_summary")" -eq 1 ]; then
	book_pass kunit-suite
else
	book_fail kunit-suite "no \"ok N rust_dma_fence\" line with a pass:7 fail:0 summary"
fi

for ktap_t in $ktap_tests; do
	ktap_n=$(book_count "^\[ *[0-9.]+\]     ok [0-9]+ ${ktap_t}\$")
	if [ "$ktap_n" -eq 1 ]; then
		book_pass "kunit-$ktap_t"
	else
		book_fail "kunit-$ktap_t" "found $ktap_n \"ok N $ktap_t\" lines, want 1"
	fi
done

ktap_n=$(book_count '^\[ *[0-9.]+\] +not ok ')
if [ "$ktap_n" -eq 0 ]; then
	book_pass kunit-no-failures
else
	book_fail kunit-no-failures "$ktap_n \"not ok\" lines"
fi
