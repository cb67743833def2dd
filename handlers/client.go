package handlers

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gatehouse/models/throttle"
)

// clientAddress is the address the request came from: the TCP peer, or,
// when the peer is a trusted proxy, the last address in X-Forwarded-For
// that no trusted proxy added — the earlier ones are the client's to forge.
// Several header lines are one list, joined in order (RFC 9110 5.3): a
// proxy may append a line of its own after the client's forged one.
func (h *handler) clientAddress(c *fiber.Ctx) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	peer = peer.Unmap()
	if !h.trusted(peer) {
		return peer
	}
	var hops []string
	for _, line := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		hops = append(hops, strings.Split(string(line), ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer
		}
		if addr = addr.Unmap(); !h.trusted(addr) {
			return addr
		}
	}
	return peer
}

func (h *handler) trusted(addr netip.Addr) bool {
	for _, prefix := range h.trustedProxies {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// clientKey is rule's throttle key for the client of c. Every limit per
// client address is counted here, so all of them see the same client: the
// address clientAddress trusts, and for IPv6 its /64, since a client
// usually holds a whole one.
func (h *handler) clientKey(c *fiber.Ctx, rule throttle.Rule) throttle.Key {
	addr := h.clientAddress(c)
	if addr.Is6() {
		prefix, _ := addr.Prefix(64)
		return rule.Key(prefix.String())
	}
	return rule.Key(addr.String())
}
