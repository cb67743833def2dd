// Command mockidp runs an OpenID Connect provider on this machine for
// trying "Log in with …" locally: it logs in whoever asks as one made-up
// person, and prints the settings to give Gatehouse.
//
//	go run ./cmd/mockidp [-addr 127.0.0.1:8090] [-email you@example.com] [-username you]
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "address to listen on (a loopback one: Gatehouse accepts an http:// issuer only there)")
	email := flag.String("email", "jane.doe@example.com", "the address of the person it logs in")
	username := flag.String("username", "jane.doe", "the person's preferred username")
	subject := flag.String("subject", "1234567890", "the person's id at this provider")
	flag.Parse()
	if err := run(*addr, &mockoidc.MockUser{Subject: *subject, Email: *email, EmailVerified: true, PreferredUsername: *username}); err != nil {
		fmt.Fprintln(os.Stderr, "mockidp:", err)
		os.Exit(1)
	}
}

func run(addr string, person *mockoidc.MockUser) error {
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return err
	}
	// The queue is popped at each login: the same person each time.
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				m.QueueUser(person)
			}
			next.ServeHTTP(w, r)
		})
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := m.Start(ln, nil); err != nil {
		return err
	}
	defer m.Shutdown()
	fmt.Printf("A test OpenID Connect provider at %s. Start Gatehouse with:\n\n", m.Issuer())
	fmt.Printf("  GATEHOUSE_SOCIAL_MOCK_CLIENT_ID=%s GATEHOUSE_SOCIAL_MOCK_CLIENT_SECRET=%s \\\n", m.ClientID, m.ClientSecret)
	fmt.Printf("  GATEHOUSE_SOCIAL_MOCK_ISSUER=%s GATEHOUSE_SOCIAL_MOCK_LABEL='Test provider' go run ./cmd/gatehouse\n\n", m.Issuer())
	fmt.Printf("Each login there logs in %s (%s).\n", person.PreferredUsername, person.Email)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	return nil
}
