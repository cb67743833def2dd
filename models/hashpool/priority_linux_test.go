package hashpool

import (
	"syscall"
	"testing"
)

func TestRunLowersThePriorityOfItsThreadOnly(t *testing.T) {
	nice := func() int {
		priority, _ := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		return 20 - priority // the raw system call answers 20 - nice
	}
	callerBefore := nice()
	var work int
	if err := New(Config{Concurrent: 1}).Run(func() { work = nice() }); err != nil {
		t.Fatal(err)
	}
	if work != 19 {
		t.Errorf("work ran at nice %d, want 19", work)
	}
	if after := nice(); after != callerBefore {
		t.Errorf("the caller's thread went from nice %d to %d", callerBefore, after)
	}
}
