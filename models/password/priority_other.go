//go:build !linux

package password

// lowerThreadPriority does nothing where threads have no nice value to set.
func lowerThreadPriority() {}
