package alifake

// Secrets returns every refresh and access token the fake has issued, so a test
// can prove none of them reaches a log line, an error or a response body.
func (f *Fake) Secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.tk.refresh)+len(f.tk.access))
	for tok := range f.tk.refresh {
		out = append(out, tok)
	}
	for tok := range f.tk.access {
		out = append(out, tok)
	}
	return out
}
