package hashpool

import (
	"runtime"
	"syscall"
)

// lowerThreadPriority gives the calling goroutine an OS thread of its own at
// nice 19. The thread is never unlocked: it ends with the goroutine, so the
// low priority never passes to other work (raising it back needs privileges).
func lowerThreadPriority() {
	runtime.LockOSThread()
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
}
