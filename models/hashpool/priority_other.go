//go:build !linux

package hashpool

// lowerThreadPriority does nothing where threads have no nice value to set.
func lowerThreadPriority() {}
