package llrp

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/dockgate/dockgate/rfid"
)

// QueryCapabilities connects to the reader at address (host[:port], 5084
// by default), waits for its connection event, asks for all capabilities
// and closes the connection politely. It returns the parsed capabilities
// and the response body as received. Nothing on the reader is changed.
// timeout bounds the whole exchange.
func QueryCapabilities(ctx context.Context, address string, timeout time.Duration) (Capabilities, []byte, error) {
	if _, _, err := net.SplitHostPort(address); err != nil {
		address = net.JoinHostPort(address, "5084")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return Capabilities{}, nil, fmt.Errorf("llrp: connect %s: %w", address, err)
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()
	dec := NewDecoder(nc, 0)
	next := func(what string) (Message, error) {
		m, err := dec.Next()
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("no %s within %v", what, timeout)
			}
			return m, fmt.Errorf("llrp: %s: %w", address, err)
		}
		return m, nil
	}
	for {
		m, err := next("connection event")
		if err != nil {
			return Capabilities{}, nil, err
		}
		if m.Type != MsgReaderEventNotification {
			continue
		}
		ev, err := ParseReaderEvent(m.Body)
		if err != nil {
			return Capabilities{}, nil, fmt.Errorf("llrp: %s: connection event: %w", address, err)
		}
		if !ev.HasConnectionAttempt {
			continue
		}
		if ev.ConnectionAttempt != ConnSuccess {
			return Capabilities{}, nil, fmt.Errorf("%w: %s: %s", rfid.ErrConnectionRefused, address, ConnectionStatusText(ev.ConnectionAttempt))
		}
		break
	}
	const id = 1
	if _, err := nc.Write(AppendGetCapabilities(nil, id, CapabilitiesAll)); err != nil {
		return Capabilities{}, nil, fmt.Errorf("llrp: %s: %w", address, err)
	}
	var body []byte
	for body == nil {
		m, err := next("capabilities reply")
		if err != nil {
			return Capabilities{}, nil, err
		}
		switch {
		case m.Type == MsgGetReaderCapabilitiesResponse && m.ID == id:
			body = append([]byte{}, m.Body...)
		case m.Type == MsgErrorMessage:
			st, _ := ParseStatus(m.Body)
			return Capabilities{}, nil, fmt.Errorf("llrp: %s answered GET_READER_CAPABILITIES with ERROR_MESSAGE %d %q", address, st.Code, st.Description)
		}
	}
	caps, err := ParseCapabilities(body)
	if err != nil {
		return caps, body, fmt.Errorf("llrp: %s: capabilities: %w", address, err)
	}
	// Goodbye: CLOSE_CONNECTION, its answer awaited briefly.
	_ = nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write(AppendEmpty(nil, MsgCloseConnection, id+1)); err == nil {
		for {
			m, err := dec.Next()
			if err != nil || m.Type == MsgCloseConnectionResponse {
				break
			}
		}
	}
	return caps, body, nil
}
