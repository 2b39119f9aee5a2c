package alifake

// Secrets returns every credential the fake has issued — legacy and Open
// refresh and access tokens (those inside a passport bizExt included), Open
// authCodes and share tokens — so a test can prove none of them reaches a
// log line, an error or a response body.
func (f *Fake) Secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.tk.refresh)+len(f.tk.access)+len(f.ot.refresh)+len(f.ot.access)+len(f.ot.codes)+len(f.sh.tokens))
	for tok := range f.tk.refresh {
		out = append(out, tok)
	}
	for tok := range f.tk.access {
		out = append(out, tok)
	}
	for tok := range f.ot.refresh {
		out = append(out, tok)
	}
	for tok := range f.ot.access {
		out = append(out, tok)
	}
	for code := range f.ot.codes {
		out = append(out, code)
	}
	for tok := range f.sh.tokens {
		out = append(out, tok)
	}
	return out
}
