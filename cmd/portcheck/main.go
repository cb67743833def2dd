// Command portcheck fails, saying why, when an address that `task dev`
// needs is taken: templ's proxy would keep serving the app already there,
// and edits would never show.
//
//	go run ./cmd/portcheck 127.0.0.1:3000 127.0.0.1:7331
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run checks that each of addresses is free to listen on.
func run(addresses []string) error {
	var busy []error
	for _, address := range addresses {
		listener, err := net.Listen("tcp", address)
		if err != nil {
			busy = append(busy, fmt.Errorf("%s is already in use, most likely by a Gatehouse still running "+
				"(another `task dev`, or `go run ./cmd/gatehouse`): stop it, "+
				"or pick other ports in templ.config (TEMPL_APP_ADDR, TEMPL_PROXY_PORT)", address))
			continue
		}
		listener.Close()
	}
	return errors.Join(busy...)
}
