// Command pause is the local cluster's sandbox ("pause") container: the
// first process of every pod, which holds the pod's namespaces open. It
// does nothing until SIGTERM or SIGINT, and as PID 1 of a pod that shares
// its process namespace it reaps the orphans re-parented to it.
// No registry is reachable here to pull registry.k8s.io/pause, so
// tools/kube builds this one, statically, and imports it under that name.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			return
		}
		reap()
	}
}

// reap collects every child that has exited: signals coalesce, so one
// SIGCHLD can stand for several.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
