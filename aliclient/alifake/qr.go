package alifake

import (
	"time"
)

// qrFlow names the two QR logins (§12): they share the test hooks and the
// state machine but speak different wire formats and yield tokens of
// different families.
type qrFlow int

const (
	qrFlowOpen     qrFlow = iota // flow A: Open platform OAuth, yields an authCode
	qrFlowPassport               // flow B: legacy passport, yields a legacy refresh token
)

// qrState is a QR login's state; each flow names it its own way.
type qrState int

const (
	qrWaiting   qrState = iota // WaitLogin / NEW
	qrScanned                  // ScanSuccess / SCANED
	qrConfirmed                // LoginSuccess / CONFIRMED
	qrExpired                  // QRCodeExpired / EXPIRED
	qrCanceled                 // CANCELED (passport only; the Open flow has no such state)
)

// qrStore holds every QR login ever created, guarded by Fake.mu. Sessions
// are never forgotten: a confirmed one keeps answering the same (§12.3 leaves
// repeat polls open; the fake repeats itself).
type qrStore struct {
	byID  map[string]*qrSession
	order []*qrSession // creation order, for PendingQR
}

// qrSession is one QR login.
type qrSession struct {
	flow    qrFlow
	id      string // the sid (Open) or the ck (passport)
	t       int64  // passport only: content.data.t, which query.do must echo
	expires time.Time
	state   qrState
	// authCode (Open) or bizExt (passport) is set on confirmation.
	authCode string
	bizExt   string
}

func (qs *qrStore) init() { qs.byID = make(map[string]*qrSession) }

// add registers a new session that expires after the configured lifetime.
// Called with Fake.mu held.
func (f *Fake) addQR(flow qrFlow, id string, now time.Time) *qrSession {
	s := &qrSession{flow: flow, id: id, expires: now.Add(f.opts.QRLifetime)}
	f.qr.byID[id] = s
	f.qr.order = append(f.qr.order, s)
	return s
}

// settle returns the session's state at now, turning a login still waiting
// for its scan or confirmation into an expired one once its lifetime is over.
func (s *qrSession) settle(now time.Time) qrState {
	if s.pending() && !now.Before(s.expires) {
		s.state = qrExpired
	}
	return s.state
}

// pending reports whether the login can still move on.
func (s *qrSession) pending() bool { return s.state == qrWaiting || s.state == qrScanned }

// PendingQR returns the ids of the QR logins that are still waiting for a
// scan or a confirmation, oldest first: the sid of an Open login, the ck of a
// passport one. Expired, confirmed and cancelled logins are left out.
func (f *Fake) PendingQR() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	var out []string
	for _, s := range f.qr.order {
		s.settle(now)
		if s.pending() {
			out = append(out, s.id)
		}
	}
	return out
}

// ScanQR plays the phone scanning the QR code: WaitLogin → ScanSuccess
// (Open) or NEW → SCANED (passport). Unknown ids and logins past that state
// are ignored.
func (f *Fake) ScanQR(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.qr.byID[id]; s != nil && s.settle(f.now()) == qrWaiting {
		s.state = qrScanned
	}
}

// ConfirmQR plays the user confirming the login on the phone (a scan is
// implied when ScanQR was not called): the Open login turns LoginSuccess
// with a fresh authCode, valid 10 minutes and once; the passport login turns
// CONFIRMED with a bizExt that carries a fresh legacy refresh token. Unknown
// ids and finished logins are ignored.
func (f *Fake) ConfirmQR(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	s := f.qr.byID[id]
	if s == nil {
		return
	}
	s.settle(now)
	if !s.pending() {
		return
	}
	s.state = qrConfirmed
	switch s.flow {
	case qrFlowOpen:
		s.authCode = randomHex(16)
		f.ot.codes[s.authCode] = &authCode{expires: now.Add(authCodeTTL)}
	case qrFlowPassport:
		s.bizExt = f.passportLogin(now)
	}
}

// CancelQR plays the user cancelling on the phone: a passport login turns
// CANCELED. The Open flow has no cancelled state (§12.1), so an Open login
// turns QRCodeExpired. Unknown ids and finished logins are ignored.
func (f *Fake) CancelQR(id string) {
	f.finishQR(id, func(s *qrSession) qrState {
		if s.flow == qrFlowPassport {
			return qrCanceled
		}
		return qrExpired
	})
}

// ExpireQR ends a login's lifetime now: QRCodeExpired (Open) or EXPIRED
// (passport). Unknown ids and finished logins are ignored.
func (f *Fake) ExpireQR(id string) {
	f.finishQR(id, func(*qrSession) qrState { return qrExpired })
}

// finishQR moves a pending login to the state end picks.
func (f *Fake) finishQR(id string, end func(*qrSession) qrState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.qr.byID[id]; s != nil {
		s.settle(f.now())
		if s.pending() {
			s.state = end(s)
		}
	}
}
