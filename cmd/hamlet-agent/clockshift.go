package main

import (
	"errors"
	"fmt"
	"time"
)

// HAMLET_CLOCK_SHIFT moves this process's wall clock, for black-box tests
// of the clock bound (docs/PROTOCOL.md §8.6): no outside tool can move a Go
// binary's clock, and the bound is about laptops whose clocks are wrong.
// It is a test's setting, never a volunteer's: it is honoured only when
// HAMLET_TEST=1 is set too, and every command then says so on stderr. Set
// alone, it stops the command with an error rather than be ignored (a
// test would pass for the wrong reason) or obeyed (a laptop would stamp
// its writes with a time nobody chose). Even obeyed by mistake it could
// not break the bound, which holds for any clock that is merely off: the
// first sync measures the shift and corrects the writes made under it.
const (
	envClockShift = "HAMLET_CLOCK_SHIFT"
	envTest       = "HAMLET_TEST"
)

var errShiftNotTest = errors.New(envClockShift + " without " + envTest + "=1")

// clockShift reads the shift from the environment: 0 when unset.
func clockShift(getenv func(string) string) (time.Duration, error) {
	v := getenv(envClockShift)
	if v == "" {
		return 0, nil
	}
	if getenv(envTest) != "1" {
		return 0, errShiftNotTest
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", envClockShift, v, err)
	}
	return d, nil
}

// shiftMessage says what is wrong with the shift, or that it is in force.
func shiftMessage(lang string, d time.Duration, err error) string {
	switch {
	case errors.Is(err, errShiftNotTest):
		return tr(lang, fmt.Sprintf("Lỗi: biến môi trường %s chỉ dùng khi kiểm thử (cùng %s=1). Hãy xóa biến này rồi chạy lại.", envClockShift, envTest),
			fmt.Sprintf("Error: the environment variable %s is for tests only (with %s=1). Unset it and run again.", envClockShift, envTest))
	case err != nil:
		return tr(lang, fmt.Sprintf("Lỗi: %s phải là một khoảng thời gian, ví dụ +8760h hoặc -5m.", envClockShift),
			fmt.Sprintf("Error: %s must be a duration, for example +8760h or -5m.", envClockShift))
	}
	return tr(lang, fmt.Sprintf("Cảnh báo: đồng hồ của lệnh này bị dời %s để kiểm thử (%s).", d, envClockShift),
		fmt.Sprintf("Warning: this command's clock is shifted by %s for a test (%s).", d, envClockShift))
}
