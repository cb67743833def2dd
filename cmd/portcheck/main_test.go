package main

import (
	"net"
	"os"
	"strings"
	"testing"
)

func TestBusyAddressFails(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddress := free.Addr().String()
	free.Close()

	err = run([]string{freeAddress, taken.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), taken.Addr().String()+" is already in use") {
		t.Fatalf("a taken address: %v", err)
	}
	if strings.Contains(err.Error(), freeAddress) {
		t.Errorf("the free address is named too: %v", err)
	}
	if err := run([]string{freeAddress}); err != nil {
		t.Errorf("a free address: %v", err)
	}
}

// The dev task checks its ports before templ starts its proxy.
func TestDevTaskChecksPortsFirst(t *testing.T) {
	taskfile, err := os.ReadFile("../../Taskfile.yml")
	if err != nil {
		t.Fatal(err)
	}
	dev := string(taskfile)[strings.Index(string(taskfile), "\n  dev:"):]
	dev = dev[:strings.Index(dev[1:], "\n  generate:")]
	check := strings.Index(dev, "go run ./cmd/portcheck {{.TEMPL_APP_ADDR}} 127.0.0.1:{{.TEMPL_PROXY_PORT}}")
	watch := strings.Index(dev, "go tool templ generate -watch")
	if check < 0 || watch < 0 || check > watch {
		t.Errorf("the dev task does not run the port check before templ's watch:\n%s", dev)
	}
}
