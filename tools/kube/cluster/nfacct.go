package cluster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// kube-proxy creates netfilter accounting objects (nfacct) for its
// metrics, such as ct_state_invalid_dropped_pkts, and leaves them in the
// kernel when it stops; nothing on a Debian host lists them without the
// nfacct tool. These speak nfnetlink's accounting subsystem directly.
const (
	netlinkNetfilter = 12 // NETLINK_NETFILTER
	nfnlSubsysAcct   = 7  // NFNL_SUBSYS_ACCT
	nfnlMsgAcctGet   = 1  // NFNL_MSG_ACCT_GET
	nfnlMsgAcctDel   = 3  // NFNL_MSG_ACCT_DEL
	nfacctName       = 1  // NFACCT_NAME
	nfgenmsgLen      = 4
)

// nfacctObjects lists the names of the kernel's accounting objects.
func nfacctObjects() ([]string, error) {
	msgs, err := nfacctRequest(nfnlMsgAcctGet, syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP, nil)
	if err != nil {
		return nil, fmt.Errorf("nfacct list: %w", err)
	}
	names := []string{}
	for _, m := range msgs {
		if len(m.Data) < nfgenmsgLen {
			continue
		}
		if name, ok := netlinkAttr(m.Data[nfgenmsgLen:], nfacctName); ok {
			names = append(names, string(bytes.TrimRight(name, "\x00")))
		}
	}
	return names, nil
}

// netlinkAttr finds attribute typ among attrs (length, type, value,
// padded to 4 bytes).
func netlinkAttr(attrs []byte, typ uint16) ([]byte, bool) {
	for len(attrs) >= 4 {
		n := int(binary.NativeEndian.Uint16(attrs[0:]))
		if n < 4 || n > len(attrs) {
			return nil, false
		}
		if binary.NativeEndian.Uint16(attrs[2:])&0x3fff == typ {
			return attrs[4:n], true
		}
		attrs = attrs[min((n+3)&^3, len(attrs)):]
	}
	return nil, false
}

// deleteNfacct removes one accounting object; the kernel refuses (EBUSY)
// while a rule still uses it.
func deleteNfacct(name string) error {
	attr := make([]byte, 4, 4+len(name)+4)
	attr = append(attr, name...)
	attr = append(attr, 0)
	binary.NativeEndian.PutUint16(attr[0:], uint16(len(attr))) //nolint:gosec // G115: the kernel's names are at most 32 bytes (NFACCT_NAME_MAX)
	binary.NativeEndian.PutUint16(attr[2:], nfacctName)
	for len(attr)%4 != 0 {
		attr = append(attr, 0)
	}
	if _, err := nfacctRequest(nfnlMsgAcctDel, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, attr); err != nil {
		return fmt.Errorf("nfacct delete %s: %w", name, err)
	}
	return nil
}

// nfacctRequest sends one nfnetlink message and collects the replies up
// to NLMSG_DONE or the acknowledgement.
func nfacctRequest(msgType uint16, flags uint16, payload []byte) ([]syscall.NetlinkMessage, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, netlinkNetfilter)
	if err != nil {
		return nil, err
	}
	defer func() { _ = syscall.Close(fd) }() // a netlink socket holds nothing that closing could lose
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, err
	}
	body := append([]byte{syscall.AF_UNSPEC, 0 /* NFNETLINK_V0 */, 0, 0}, payload...)
	msg := make([]byte, syscall.NLMSG_HDRLEN, syscall.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(syscall.NLMSG_HDRLEN+len(body))) //nolint:gosec // G115: a header and one short attribute
	binary.NativeEndian.PutUint16(msg[4:], nfnlSubsysAcct<<8|msgType)
	binary.NativeEndian.PutUint16(msg[6:], flags)
	binary.NativeEndian.PutUint32(msg[8:], 1) // sequence number
	msg = append(msg, body...)
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, err
	}
	var replies []syscall.NetlinkMessage
	buf := make([]byte, 1<<16)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return replies, nil
			case syscall.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return nil, errors.New("short netlink error")
				}
				// nlmsgerr's error is a C int: 0 acknowledges, a negated
				// errno refuses.
				if errno := int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 { //nolint:gosec // G115: see above
					return nil, syscall.Errno(-errno) //nolint:gosec // G115: negated back, it is positive
				}
				return replies, nil // the acknowledgement
			default:
				replies = append(replies, m)
			}
		}
	}
}
