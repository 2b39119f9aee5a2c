package alifake

// accountStats is what tests ask about the account's token chain and the
// Open app's grant; guarded by Fake.mu.
type accountStats struct {
	// refreshes and openRefreshes count refresh tokens traded for a new
	// pair (legacy §1.1, Open §3.1); refused refreshes do not count.
	refreshes, openRefreshes int
	// notGranted are the drives (DriveResource, DriveBackup) the user did not
	// grant the Open app: getDriveInfo leaves their ids out (§16).
	notGranted map[string]bool
}

// Refreshes reports how many refresh tokens were traded for a new pair,
// legacy and Open together: one chain serving several drives of the account
// refreshes once per access token's life, however many drives it serves
// (§16). Unlike Calls("token"), refused refreshes are not counted.
// ResetCounters leaves it alone.
func (f *Fake) Refreshes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acct.refreshes + f.acct.openRefreshes
}

// SetOpenGrant decides which of the account's drives the user granted the
// Open app at authorisation: getDriveInfo carries resource_drive_id and
// backup_drive_id only for granted drives (§16; both are granted until
// told otherwise). The default drive is always in the answer.
func (f *Fake) SetOpenGrant(resource, backup bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acct.notGranted = map[string]bool{DriveResource: !resource, DriveBackup: !backup}
}
